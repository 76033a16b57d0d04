#pragma once
// Query counters of the DNS responders. Each UDP thread has its own block
// (a cache line apart), so counting costs no shared write; /metrics sums.
#include <array>
#include <atomic>
#include <cstdint>

#include "dns/responder.h"

namespace failover::dns {

// Rcodes we send, in this order; kRcodeSlots[i] is the rcode of slot i.
inline constexpr std::array<int, 7> kRcodeSlots = {0, 1, 2, 3, 4, 5, 16};
inline constexpr const char* kRcodeNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                              "NOTIMP", "REFUSED", "BADVERS"};

struct alignas(64) QueryStats {
  std::array<std::atomic<std::uint64_t>, kRcodeSlots.size()> by_rcode{};
  std::atomic<std::uint64_t> dropped{0};    // not answered: responses, runts
  std::atomic<std::uint64_t> truncated{0};  // answered with TC

  void count(const Response& r) {
    auto bump = [](std::atomic<std::uint64_t>& c) { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); };
    if (!r.send) return bump(dropped);
    const int code = static_cast<int>(r.rcode);
    for (std::size_t i = 0; i < kRcodeSlots.size(); ++i)
      if (kRcodeSlots[i] == code) bump(by_rcode[i]);
    if (r.truncated) bump(truncated);
  }
};

// DNS-over-TCP connections. The TCP server and /metrics both run on the
// control thread, so plain counters do.
struct TcpConnectionStats {
  std::uint64_t open = 0;
  std::uint64_t evicted = 0;  // idle ones closed to make room for a new one
  std::uint64_t refused = 0;  // new ones closed at once: at a limit with none idle
};

}  // namespace failover::dns
