#pragma once
// The resolver's two choices, as pure functions of their inputs: which IPs
// connect() tries and in what order, and which HTTPDNS server to ask first.
// No I/O; the randomness and the clock come in as arguments, so tests pin
// them.
#include <chrono>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "core/time.h"

namespace failover::client {

// The lecture's rule, as one draw: pick an IP at random; on failure pick
// another at random among those not tried yet; stop at success or after
// `max_attempts`. Drawing the whole order up front is the same thing (a
// uniform random permutation, cut short) and lets the caller log the plan.
// IPv4 addresses come first in random order, then IPv6 ones: a host without
// a v6 route would otherwise spend its attempts on timeouts. Addresses in
// `avoid` (already failed for this request) are left out; no address
// appears twice.
std::vector<std::string> connect_order(const std::vector<std::string>& ips,
                                       const std::vector<std::string>& ipsv6,
                                       const std::vector<std::string>& avoid, std::size_t max_attempts,
                                       std::mt19937_64& rng);

// Which of several HTTPDNS servers to ask. The one that answered last is
// asked first (remember what worked); a server that failed is skipped for
// `backoff`, i.e. put after every server that has not failed, but never
// dropped: when all have failed, all are still tried, oldest failure first.
class ServerRotation {
 public:
  ServerRotation(std::size_t servers, std::chrono::milliseconds backoff);

  // Every server index once, in the order to try them at `now`.
  std::vector<std::size_t> order(core::TimePoint now) const;
  void succeeded(std::size_t server);
  void failed(std::size_t server, core::TimePoint now);
  std::size_t current() const { return current_; }

 private:
  std::chrono::milliseconds backoff_;
  std::size_t current_ = 0;
  std::vector<core::TimePoint> failed_at_;  // TimePoint::min(): not failed
};

}  // namespace failover::client
