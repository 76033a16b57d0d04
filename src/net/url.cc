#include "net/url.h"

#include <cctype>

#include "net/endpoint.h"

namespace failover::net {

namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

core::Error fail(std::string_view text, std::string_view why) {
  return core::Error::invalid("bad URL \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

core::Result<HttpUrl> parse_http_url(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return fail(text, "spaces and control characters are not allowed");
  }
  if (iequals_prefix(text, "https://"))
    return fail(text, "https is not supported (use http:// or a local TLS terminator)");
  if (!iequals_prefix(text, "http://")) return fail(text, "expected http://host:port");

  std::string_view rest = text.substr(7);
  const auto slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);

  if (authority.find('@') != std::string_view::npos) return fail(text, "user info is not supported");
  if (authority.empty()) return fail(text, "missing host");
  if (path.find_first_of("?#") != std::string_view::npos)
    return fail(text, "a query or fragment is not allowed in a base URL");

  // Port 80 when absent; the colon test must skip an IPv6 literal's own colons.
  std::string host_port(authority);
  const bool bracketed = authority.starts_with('[');
  const auto close = authority.find(']');
  if (bracketed && close == std::string_view::npos) return fail(text, "unclosed [ in host");
  const bool has_port = bracketed ? close + 1 < authority.size()
                                  : authority.find(':') != std::string_view::npos;
  if (!has_port) host_port += ":80";
  auto hp = split_host_port(host_port);
  if (!hp) return fail(text, "expected host:port with a port in 1..65535");

  while (path.ends_with('/')) path.remove_suffix(1);

  return HttpUrl{std::move(host_port), std::string(path)};
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;  // "%" or "%4" at the end
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> split_query(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    out.emplace_back(pair.substr(0, eq), eq == std::string_view::npos ? "" : pair.substr(eq + 1));
  }
  return out;
}

}  // namespace failover::net
