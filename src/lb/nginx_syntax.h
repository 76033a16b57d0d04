#pragma once
// nginx configuration syntax: words, quoted strings, `;`-terminated
// directives and `{}` blocks, with line numbers for messages. No meaning is
// given to any directive here (see nginx_config.cc).
#include <string>
#include <vector>

namespace failover::lb {

enum class Tok { kWord, kString, kOpen, kClose, kSemi, kEnd };

struct Token {
  Tok kind;
  std::string text;  // escapes decoded in quoted strings
  int line = 1;
};

struct Directive {
  std::string name;
  std::vector<Token> args;
  int line = 0;
  bool block = false;
  std::vector<Directive> children;
};

// The top-level directives of `text`. Throws core::ConfigError
// ("file:line: ...") on unbalanced braces, a missing ';', or blocks nested
// deeper than 64.
std::vector<Directive> parse_nginx_syntax(const std::string& text, const std::string& file);

}  // namespace failover::lb
