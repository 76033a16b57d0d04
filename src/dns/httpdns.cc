#include "dns/httpdns.h"

#include <algorithm>
#include <charconv>

#include "net/hmac.h"
#include "net/host_name.h"
#include "net/json_quote.h"
#include "net/url.h"

namespace failover::dns {
namespace {

constexpr std::size_t kMaxHostParam = 4096;

// "'name' is not a host name", with at most 64 bytes of what was sent.
std::string not_a_host(std::string_view sent) {
  std::string m;
  m.reserve(96);
  m.push_back('\'');
  m.append(sent.substr(0, 64));
  m.append("' is not a host name");
  return m;
}

}  // namespace

core::Result<HttpdnsQuery> parse_httpdns_query(std::string_view query, std::size_t max_hosts) {
  const auto bad = [](std::string why) { return core::Error::invalid(std::move(why)); };
  HttpdnsQuery q;
  bool seen_host = false, seen_t = false, seen_s = false;
  for (const auto& [key, raw] : net::split_query(query)) {
    bool* seen = key == "host" ? &seen_host : key == "t" ? &seen_t : key == "s" ? &seen_s : nullptr;
    if (!seen) continue;  // SDKs' own parameters
    if (*seen) return bad("parameter " + std::string(key) + " is given twice");
    *seen = true;
    std::optional<std::string> value = net::percent_decode(raw);
    if (!value) return bad("bad percent-encoding in " + std::string(key));
    if (key == "host") {
      if (value->size() > kMaxHostParam) return bad("host is too long");
      q.host_param = *value;
    } else if (key == "t") {
      long long t = 0;
      auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), t);
      if (value->empty() || ec != std::errc() || ptr != value->data() + value->size() || t < 0)
        return bad("t must be the expiry time in unix seconds");
      q.t = t;
      q.t_text = *value;
    } else {
      q.s = *value;
    }
  }
  if (!seen_host || q.host_param.empty()) return bad("missing host (GET /d?host=www.example.com)");
  std::string_view rest = q.host_param;
  for (;;) {
    const std::size_t comma = rest.find(',');
    const std::string_view one = rest.substr(0, comma);
    const std::string host = net::normalize_host(one);
    if (!net::valid_host_name(host)) return bad(not_a_host(one));
    if (std::find(q.hosts.begin(), q.hosts.end(), host) == q.hosts.end()) {
      if (q.hosts.size() == max_hosts)
        return bad("at most " + std::to_string(max_hosts) + " hosts in one request");
      q.hosts.push_back(host);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return q;
}

std::string check_signature(const std::string& secret, const HttpdnsQuery& q, long long now_unix) {
  if (!q.t || q.s.empty()) return "this server wants signed requests: add t=EXPIRY&s=HMAC-SHA256(secret, host + t)";
  if (*q.t < now_unix) return "the signature expired (t is in the past)";
  if (*q.t > now_unix + kMaxSignatureLifetime) return "t is too far in the future (at most a day from now)";
  std::string s = q.s;
  for (char& c : s)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  const std::string expected = net::hmac_sha256_hex(secret, q.host_param + q.t_text);
  if (!net::constant_time_equal(s, expected)) return "bad signature";
  return "";
}

HttpdnsReply httpdns_reply(const ZoneSnapshot& zone, const HttpdnsQuery& q) {
  HttpdnsReply r;
  r.body.reserve(64 * q.hosts.size() + 2);
  r.body.push_back('{');
  bool any_known = false;
  for (const std::string& host : q.hosts) {
    if (r.body.size() > 1) r.body += ',';
    r.body += net::json_quote(host);
    r.body += ':';
    if (const NameAnswer* a = zone.find_text(host)) {
      r.body += a->httpdns_json;
      any_known = true;
    } else {
      r.body += R"({"error":"unknown host"})";
    }
  }
  r.body += '}';
  if (!any_known) {
    r.status = 404;
    r.body = "{\"error\":" + net::json_quote("unknown host " + q.host_param) + "}";
  }
  return r;
}

}  // namespace failover::dns
