#pragma once
// "http://host:port/prefix" as written in config files (registry and etcd
// addresses), split into what an HttpClient needs.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace failover::net {

struct HttpUrl {
  std::string host_port;  // "127.0.0.1:8500", "[::1]:8500", "example.com:80"
  std::string base_path;  // "" or "/prefix", never ending in '/': callers append "/v1/..."
};

// Accepts "http://HOST[:PORT][/PATH]" (scheme case-insensitive, port 80 when
// absent, HOST an IPv4 address, a [bracketed] IPv6 address or a name).
// Refuses with kInvalid and a message naming the problem ("bad URL \"...\":
// why"): https (no TLS here), other schemes, user info, an empty host, a bad
// port, a query or fragment, and spaces or control characters anywhere.
core::Result<HttpUrl> parse_http_url(std::string_view text);

// "%2F" -> "/". nullopt on a broken escape ("%4", "%zz"). '+' stays '+'.
std::optional<std::string> percent_decode(std::string_view s);

// "a=1&b&&c=" -> {a,1} {b,""} {c,""}: the pairs of a query string as sent,
// empty pairs skipped; values are not decoded.
std::vector<std::pair<std::string_view, std::string_view>> split_query(std::string_view query);

}  // namespace failover::net
