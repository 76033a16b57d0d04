#pragma once
// The system resolver, through c-ares: the resolver's last resort when no
// HTTPDNS server answers and no cached answer is usable. /etc/hosts first,
// then the DNS servers of /etc/resolv.conf, or the ones given.
//
// Bookworm's c-ares (1.18) has no event thread of its own, so resolve()
// drives the channel with its own poll() loop and blocks: call it from a
// thread that may block (the Resolver keeps one for this).
#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace failover::client {

// At least one address.
struct SystemAnswer {
  std::vector<std::string> ips;    // IPv4, canonical text
  std::vector<std::string> ipsv6;  // IPv6
  std::chrono::seconds ttl{0};     // the smallest of the records'; 0 for /etc/hosts
};

class SystemResolver {
 public:
  // `servers`: "127.0.0.1:5354", "[::1]:53", "10.0.0.1" (port 53); empty:
  // /etc/resolv.conf. `timeout` bounds one resolve() in all. Throws
  // std::invalid_argument when c-ares refuses a server.
  SystemResolver(std::vector<std::string> servers, std::chrono::milliseconds timeout);

  // A and AAAA for `host`. Blocks for at most about `timeout`. Thread-safe:
  // each call has a channel of its own (this is a fallback path; reading
  // resolv.conf per call costs nothing that matters here). Errors: kTimeout
  // (no answer within `timeout`), kNotFound (no such name, or no address),
  // kUnavailable (c-ares could not ask); the message starts "system resolver: "
  // or "c-ares: ".
  core::Result<SystemAnswer> resolve(const std::string& host) const;

 private:
  std::string servers_csv_;
  std::chrono::milliseconds timeout_;
};

}  // namespace failover::client
