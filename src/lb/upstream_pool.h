#pragma once
// Idle keep-alive connections to servers, one pool per worker thread (so no
// lock). Connections are reused newest first.
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.h"
#include "lb/model.h"
#include "net/read_buffer.h"

namespace failover::lb {

struct UpstreamConn {
  UpstreamConn(boost::asio::ip::tcp::socket s, std::shared_ptr<ServerStats> st)
      : socket(std::move(s)), stats(std::move(st)) {
    stats->connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~UpstreamConn() { stats->connections.fetch_sub(1, std::memory_order_relaxed); }
  UpstreamConn(const UpstreamConn&) = delete;
  UpstreamConn& operator=(const UpstreamConn&) = delete;

  boost::asio::ip::tcp::socket socket;
  net::ReadBuffer buffer;  // bytes read past the last response head
  core::TimePoint idle_since{};
  bool reused = false;     // served a request before
  std::shared_ptr<ServerStats> stats;
};

class UpstreamPool {
 public:
  // An idle connection to `server`, or nullptr. With `verify`, one the
  // server closed while idle is found by a non-blocking peek (a syscall)
  // and skipped: for requests that must not be sent twice. Without it the
  // caller retries a stale connection itself.
  std::unique_ptr<UpstreamConn> take(const ServerView& server, core::TimePoint now,
                                     std::chrono::milliseconds idle_timeout, bool verify);
  // Keeps `conn` for the next request to `server` (at most kMaxIdlePerServer).
  void put(const ServerView& server, std::unique_ptr<UpstreamConn> conn, core::TimePoint now);
  // Closes connections idle longer than `idle_timeout`.
  void sweep(core::TimePoint now, std::chrono::milliseconds idle_timeout);
  void clear() { idle_.clear(); }

  static constexpr std::size_t kMaxIdlePerServer = 256;

 private:
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConn>>> idle_;
};

}  // namespace failover::lb
