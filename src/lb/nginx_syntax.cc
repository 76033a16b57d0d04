#include "lb/nginx_syntax.h"

#include "core/yaml_util.h"

namespace failover::lb {
namespace {

constexpr int kMaxNesting = 64;  // blocks are parsed recursively

// nginx's own lexer (ngx_conf_read_token): '#' starts a comment only where
// a token could start, and a quoted string must be followed by a separator.
class Lexer {
 public:
  Lexer(const std::string& text, const std::string& file) : s_(text), file_(file) {}

  Token next() {
    for (;;) {
      while (pos_ < s_.size() && is_space(s_[pos_])) advance();
      if (pos_ < s_.size() && s_[pos_] == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
        continue;
      }
      break;
    }
    if (pos_ == s_.size()) return {Tok::kEnd, "", line_};
    const int line = line_;
    const char c = s_[pos_];
    if (c == '{' || c == '}' || c == ';') {
      ++pos_;
      return {c == '{' ? Tok::kOpen : c == '}' ? Tok::kClose : Tok::kSemi, std::string(1, c), line};
    }
    std::string text;
    if (c == '"' || c == '\'') {
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != c) take_char(text);
      if (pos_ == s_.size()) core::fail_config(file_, line, "unterminated quoted string");
      ++pos_;
      if (pos_ < s_.size() && !is_space(s_[pos_]) && !is_separator(s_[pos_])) {
        core::fail_config(file_, line_, "unexpected character after quoted string");
      }
      return {Tok::kString, std::move(text), line};
    }
    while (pos_ < s_.size() && !is_space(s_[pos_]) && !is_separator(s_[pos_])) {
      if (s_[pos_] == '$' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '{') {
        // "${var}": these braces belong to the word, not to a block.
        auto close = s_.find_first_of("{}; \t\r\n", pos_ + 2);
        if (close == std::string::npos || s_[close] != '}') {
          core::fail_config(file_, line_, "unterminated ${variable}");
        }
        text.append(s_, pos_, close + 1 - pos_);
        pos_ = close + 1;
        continue;
      }
      take_char(text);
    }
    return {Tok::kWord, std::move(text), line};
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  static bool is_separator(char c) { return c == '{' || c == '}' || c == ';'; }

  void advance() {
    if (s_[pos_++] == '\n') ++line_;
  }

  // One character, decoding nginx's escapes; unknown ones keep the backslash.
  void take_char(std::string& out) {
    if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
      const char e = s_[pos_ + 1];
      const char decoded = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
      if (decoded != e || e == '"' || e == '\'' || e == '\\') {
        out += decoded;
        pos_ += 2;
        return;
      }
    }
    out += s_[pos_];
    advance();
  }

  const std::string& s_;
  const std::string& file_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

// Statements up to the '}' closing the block opened on `open_line` (0: top level).
std::vector<Directive> parse_block(Lexer& lex, const std::string& file, int depth, int open_line) {
  std::vector<Directive> out;
  for (;;) {
    Token t = lex.next();
    if (t.kind == Tok::kEnd) {
      if (open_line) core::fail_config(file, open_line, "'{' opened here is never closed");
      return out;
    }
    if (t.kind == Tok::kClose) {
      if (!open_line) core::fail_config(file, t.line, "unexpected '}'");
      return out;
    }
    if (t.kind != Tok::kWord && t.kind != Tok::kString) {
      core::fail_config(file, t.line, "unexpected '" + t.text + "'");
    }
    Directive d;
    d.name = t.text;
    d.line = t.line;
    for (;;) {
      Token a = lex.next();
      if (a.kind == Tok::kWord || a.kind == Tok::kString) {
        d.args.push_back(std::move(a));
      } else if (a.kind == Tok::kSemi) {
        break;
      } else if (a.kind == Tok::kOpen) {
        if (depth >= kMaxNesting) {
          core::fail_config(file, a.line,
                            "blocks nested deeper than " + std::to_string(kMaxNesting));
        }
        d.block = true;
        d.children = parse_block(lex, file, depth + 1, d.line);
        break;
      } else {
        core::fail_config(file, d.line, "missing ';' after \"" + d.name + "\" directive");
      }
    }
    out.push_back(std::move(d));
  }
}

}  // namespace

std::vector<Directive> parse_nginx_syntax(const std::string& text, const std::string& file) {
  Lexer lex(text, file);
  return parse_block(lex, file, 0, 0);
}

}  // namespace failover::lb
