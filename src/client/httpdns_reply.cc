#include "client/httpdns_reply.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "net/hmac.h"

namespace failover::client {

namespace json = boost::json;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The canonical text of an address of `family`, or nothing. Going through
// inet_pton/inet_ntop both validates and gives one spelling per address, so
// "::0001" and "::1" are not tried as two IPs.
std::optional<std::string> canonical_address(int family, std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string z(text);  // inet_pton needs a terminated string
  unsigned char bytes[sizeof(in6_addr)];
  if (inet_pton(family, z.c_str(), bytes) != 1) return std::nullopt;
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, bytes, out, sizeof out)) return std::nullopt;
  return std::string(out);
}

// Fills `out` from an array of addresses; an error message on failure.
std::string read_addresses(const json::value& v, int family, std::vector<std::string>& out) {
  const char* what = family == AF_INET ? "ips" : "ipsv6";
  if (!v.is_array()) return std::string("\"") + what + "\" is not an array";
  const auto& a = v.as_array();
  if (a.size() > kMaxAddresses) return std::string("too many addresses in \"") + what + "\"";
  for (const auto& e : a) {
    if (!e.is_string()) return std::string("a non-string in \"") + what + "\"";
    auto ip = canonical_address(family, e.as_string());
    if (!ip) return std::string("not an ") + (family == AF_INET ? "IPv4" : "IPv6") + " address in \"" +
                    what + "\": " + std::string(e.as_string().subview().substr(0, 64));
    if (std::find(out.begin(), out.end(), *ip) == out.end()) out.push_back(std::move(*ip));
  }
  return {};
}

core::Result<HostAnswer> read_answer(const json::value& v) {
  if (!v.is_object()) return core::Error::invalid("not an object");
  const auto& o = v.as_object();
  if (const auto* e = o.if_contains("error")) {
    std::string why = e->is_string() ? std::string(e->as_string()) : "error";
    if (why.empty()) why = "error";
    return core::Error::not_found(std::move(why));
  }
  HostAnswer answer;
  const auto* ips = o.if_contains("ips");
  if (!ips) return core::Error::invalid("no \"ips\"");
  if (auto why = read_addresses(*ips, AF_INET, answer.ips); !why.empty()) return core::Error::invalid(std::move(why));
  if (const auto* v6 = o.if_contains("ipsv6"))
    if (auto why = read_addresses(*v6, AF_INET6, answer.ipsv6); !why.empty())
      return core::Error::invalid(std::move(why));
  const auto* ttl = o.if_contains("ttl");
  std::int64_t seconds = -1;
  if (ttl && ttl->is_int64()) seconds = ttl->as_int64();
  else if (ttl && ttl->is_uint64()) seconds = kMaxTtl.count();  // above int64: capped anyway
  if (seconds < 0) return core::Error::invalid("\"ttl\" is missing or not a non-negative integer");
  answer.ttl = std::min(std::chrono::seconds(seconds), kMaxTtl);
  if (answer.empty()) return core::Error::invalid("empty answer (no ips)");
  return answer;
}

}  // namespace

std::string httpdns_target(std::string_view host, std::string_view secret, std::int64_t expiry_unix) {
  std::string target = "/d?host=";
  target += host;
  if (secret.empty()) return target;
  const std::string t = std::to_string(expiry_unix);
  target += "&t=" + t + "&s=" + net::hmac_sha256_hex(secret, std::string(host) + t);
  return target;
}

const HostReply* find_host(const std::vector<HostReply>& hosts, std::string_view host) {
  for (const auto& h : hosts)
    if (iequals(h.host, host)) return &h;
  return nullptr;
}

core::Result<std::vector<HostReply>> parse_httpdns_reply(std::string_view body) {
  boost::system::error_code ec;
  // Bounded depth: a reply is two levels deep, a hostile one could be deeper.
  json::parse_options options;
  options.max_depth = 8;
  const auto v = json::parse(body, ec, {}, options);
  if (ec) return core::Error::invalid("not JSON: " + ec.message());
  if (!v.is_object()) return core::Error::invalid("not a JSON object");
  const auto& o = v.as_object();
  if (const auto* e = o.if_contains("error"); e && e->is_string())
    return core::Error::unavailable("server error: " + std::string(e->as_string()));
  std::vector<HostReply> hosts;
  for (const auto& kv : o) hosts.push_back({std::string(kv.key()), read_answer(kv.value())});
  return hosts;
}

std::string format_httpdns_reply(std::string_view host, const HostAnswer& answer, std::chrono::seconds ttl) {
  json::object entry;
  json::array ips;
  for (const auto& ip : answer.ips) ips.emplace_back(ip);
  entry["ips"] = std::move(ips);
  if (!answer.ipsv6.empty()) {
    json::array v6;
    for (const auto& ip : answer.ipsv6) v6.emplace_back(ip);
    entry["ipsv6"] = std::move(v6);
  }
  entry["ttl"] = ttl.count();
  json::object top;
  top[host] = std::move(entry);
  return json::serialize(top);
}

}  // namespace failover::client
