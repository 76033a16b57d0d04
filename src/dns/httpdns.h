#pragma once
// The HTTPDNS API, `GET /d?host=a[,b...]`, as the cloud HTTPDNS services
// answer it: {"a":{"ips":["127.0.0.11"],"ttl":60}}. Parsing, signature
// checks and the reply are pure functions of the query string, the zone and
// the time, so the fuzz target and the tests call them without a server.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "dns/zone.h"

namespace failover::dns {

struct HttpdnsQuery {
  std::string host_param;          // the host parameter decoded, as signed: "a,b"
  std::vector<std::string> hosts;  // lower case, without a final dot, no duplicates
  std::optional<long long> t;      // signature expiry, unix seconds
  std::string t_text;              // t as sent: what was signed
  std::string s;                   // signature, hex
};

// The query string after '?'; a kInvalid error, its message for the 400,
// when it is not a query we answer: no or empty host, a host that is not
// a name, more than `max_hosts` hosts, a parameter given twice, bad
// percent-encoding, a t that is not a number. Other parameters are ignored,
// as SDKs add their own (ip, query, ...).
core::Result<HttpdnsQuery> parse_httpdns_query(std::string_view query, std::size_t max_hosts);

// A signed URL is good for at most this long: otherwise one leaked URL
// would work forever, and `host + t` could be re-split ("lb1"+"T" is also
// "lb"+"1T") into a valid signature for another host far in the future.
inline constexpr long long kMaxSignatureLifetime = 86'400;  // seconds

// "" when `q` carries a valid signature for `secret` at `now_unix`:
// s = HEX(HMAC-SHA256(secret, host_param + t)) with t as sent, and
// now <= t <= now + kMaxSignatureLifetime. Otherwise what is wrong.
std::string check_signature(const std::string& secret, const HttpdnsQuery& q, long long now_unix);

struct HttpdnsReply {
  int status = 200;
  std::string body;
};

// 200 with one key per host asked. An unknown host's value is
// {"error":"unknown host"}; when no host is known the reply is 404
// {"error":"unknown host NAME"}.
HttpdnsReply httpdns_reply(const ZoneSnapshot& zone, const HttpdnsQuery& q);

}  // namespace failover::dns
