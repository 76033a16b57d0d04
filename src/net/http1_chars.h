#pragma once
// Character classes shared by the HTTP/1.1 parser files (internal).
#include <array>
#include <string_view>

namespace failover::net::http1 {

// tchar of RFC 9110 5.6.2: what field names, methods and codings are made of.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 32] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

}  // namespace failover::net::http1
