#pragma once
// The HTTPDNS wire contract as the resolver sees it (docs: ../shared/DESIGN.md,
// "DNS"): the request target, signed or not, and the JSON reply
//   {"www.example.com":{"ips":["127.0.0.11"],"ipsv6":["::1"],"ttl":60}}
// Plain functions on strings, no I/O and no Asio, so the fuzz build links
// them. Any thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "net/host_name.h"

namespace failover::client {

// One name's answer. Addresses are in canonical text form (inet_ntop), each
// once, in the order the server gave them.
struct HostAnswer {
  std::vector<std::string> ips;    // IPv4
  std::vector<std::string> ipsv6;  // IPv6
  std::chrono::seconds ttl{0};
  bool empty() const { return ips.empty() && ipsv6.empty(); }
  bool operator==(const HostAnswer&) const = default;
};

// A server's TTL above this is taken as this: an answer that could never
// expire would outlive every failover the server makes.
inline constexpr std::chrono::seconds kMaxTtl{86'400};
// More addresses than this for one name is a broken reply, not an answer.
inline constexpr std::size_t kMaxAddresses = 256;

using net::normalize_host;
using net::valid_host_name;

// "/d?host=HOST", and with a secret "&t=EXPIRY&s=HEX(HMAC-SHA256(secret,
// HOST + EXPIRY))", EXPIRY in Unix seconds. `host` must be valid_host_name().
std::string httpdns_target(std::string_view host, std::string_view secret, std::int64_t expiry_unix);

// One key of a reply: an answer, or why there is none: kNotFound for the
// server's own {"error":"unknown host"}, kInvalid for a value that does not
// hold ("empty answer (no ips)", "bad ips", ...).
struct HostReply {
  std::string host;                  // the key as the server wrote it
  core::Result<HostAnswer> answer;
};

// The entry for `host` (compared case-insensitively), or nullptr.
const HostReply* find_host(const std::vector<HostReply>& hosts, std::string_view host);

// Parses a reply body. Strict about what the resolver relies on: every value
// an object; "ips" (required) and "ipsv6" (optional) arrays of valid
// addresses of their family, at most kMaxAddresses; "ttl" (required) a
// non-negative integer, capped at kMaxTtl. A value {"error":"..."} is that
// host's error; a body {"error":"..."} is the reply's. An answer with no
// address at all is an error ("empty answer"): the caller treats it as a
// failed server, never as "the name has no IPs". Unknown keys are ignored,
// as other HTTPDNS services add their own. The body as a whole fails with
// kInvalid (not a JSON object) or kUnavailable (the server's {"error":...}).
core::Result<std::vector<HostReply>> parse_httpdns_reply(std::string_view body);

// The reply shape for one host, as the server would write it, with the
// given TTL: {"HOST":{"ips":[...],"ttl":N}} plus "ipsv6" when there are any.
std::string format_httpdns_reply(std::string_view host, const HostAnswer& answer,
                                 std::chrono::seconds ttl);

}  // namespace failover::client
