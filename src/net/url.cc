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

UrlResult fail(std::string_view text, std::string_view why) {
  UrlResult r;
  r.error = "bad URL \"" + std::string(text) + "\": " + std::string(why);
  return r;
}

}  // namespace

UrlResult parse_http_url(std::string_view text) {
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

  UrlResult r;
  r.url.host_port = std::move(host_port);
  r.url.base_path = std::string(path);
  return r;
}

}  // namespace failover::net
