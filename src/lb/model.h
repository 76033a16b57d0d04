#pragma once
// What the control thread publishes to the workers. A Snapshot is immutable
// once published; workers swap their pointer to it on their own thread, so
// the request path reads it without a lock. The only shared mutable data are
// the relaxed atomic counters in ServerStats.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lb/config.h"

namespace failover::lb {

// Counters every thread updates; read by /status and the balancers.
struct ServerStats {
  std::atomic<std::uint32_t> active{0};       // requests in flight
  std::atomic<std::uint32_t> connections{0};  // open upstream connections, all workers
  std::atomic<std::uint64_t> total{0};        // attempts sent
  std::atomic<std::uint64_t> failures{0};     // attempts that failed (retried or not)
  std::atomic<std::uint64_t> responses{0};    // responses passed to clients
};

class ServerHealth;  // control-thread state; see control.h

struct ServerView {
  std::uint32_t id = 0;           // index in UpstreamView::servers
  std::string address;            // as configured
  boost::asio::ip::tcp::endpoint endpoint;
  int weight = 1;                 // effective weight x100 (slow start applied), > 0
  bool backup = false;
  int max_connections = 0;        // open connections to it, all threads; 0: no cap
  std::shared_ptr<ServerStats> stats;
  // Workers never touch it; they hand it back to the control thread with a
  // passive failure, so a failure always reaches the right server, even
  // across a reload.
  std::shared_ptr<ServerHealth> health;
};

struct UpstreamView {
  std::string name;
  Balance balance = Balance::kRoundRobin;
  RetryConfig retry;
  int max_connections_per_server = 0;
  std::vector<ServerView> servers;
  // Ids of the servers requests go to now: available primaries, else
  // available backups, else (panic) every server not taken down by hand.
  // Empty: refuse with 503.
  std::vector<std::uint32_t> serving;
  // Where a request goes once it has tried every serving server: the
  // available backups while primaries serve (as nginx does), so that two
  // primaries dying at once cost no request before the checks notice.
  std::vector<std::uint32_t> fallback;
  bool panic = false;
};

struct Snapshot {
  std::vector<UpstreamView> upstreams;
  std::vector<RouteConfig> routes;
  LimitsConfig limits;
  // The upstream a request goes to; nullptr when no route matches.
  const UpstreamView* route(std::string_view host, std::string_view target) const;
};

}  // namespace failover::lb
