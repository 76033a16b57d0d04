#pragma once
// Copies this node's changes to its peers (registry.peers), and fills a
// restarting node from them. Soft state, as Eureka's: any node takes
// writes; each change (register, heartbeat, removal) is sent on to every
// peer; a peer applies it with Registry::apply's merge rule (a lease is
// never shortened), so messages that cross or repeat do no harm. Missed
// messages heal themselves: the next heartbeat carries the whole instance.
//
// One sender per peer, on the registry's io thread. Pending changes are
// kept per instance, the latest winning, so a peer that is slow or down
// costs at most one entry per instance, never an unbounded queue.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "registry/registry.h"

namespace failover::net {
class HttpClient;
}

namespace failover::registry {

class Replication {
 public:
  // A sender that failed backs off on `clock`, which must outlive the senders.
  Replication(boost::asio::io_context& io, std::vector<std::string> peer_urls, std::string token,
              const core::Clock& clock);
  ~Replication();

  // Queues `change` for every peer and wakes their senders.
  void send(const Change& change);
  // Starts one sender per peer (call once, on the io thread).
  void start();
  // Asks every peer for its dump and applies them to `registry`; returns
  // after all answered or `timeout`. Used before a restarted node listens,
  // so that it never answers with an empty list its peers would contradict.
  boost::asio::awaitable<void> fill(Registry& registry, std::chrono::milliseconds timeout);

  void note_received(std::size_t changes) { received_ += changes; }

  struct PeerState {
    std::string url;
    bool reachable = false;       // the last send succeeded
    std::size_t pending = 0;      // instances waiting to be sent
    std::uint64_t sent = 0;       // changes delivered
    std::uint64_t failures = 0;   // failed sends
    std::string last_error;
  };
  std::vector<PeerState> peers() const;
  std::uint64_t received() const { return received_; }

 private:
  struct Peer;
  boost::asio::awaitable<void> sender(Peer& peer);

  boost::asio::io_context& io_;
  const core::Clock& clock_;
  std::string token_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::uint64_t received_ = 0;
};

}  // namespace failover::registry
