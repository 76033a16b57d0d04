#pragma once
// Replication traffic between store nodes over TCP: two outbound
// connections per peer, one for each Lane (store/messages.h), carry this
// node's messages to it; peers' own connections bring theirs. A link that breaks loses what was queued on it: the protocol
// resends (a backup answers kGap, beacons repeat), so nothing here retries a
// message. Runs on the node's one io thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>

#include "core/clock.h"
#include "store/messages.h"

namespace failover::store {

class PeerLinks {
 public:
  using OnMessage = std::function<void(Message)>;
  using OnConnected = std::function<void(const std::string& peer)>;
  struct Stats {
    bool connected = false;
    std::uint64_t frames_sent = 0, frames_dropped = 0, connects = 0;
  };

  // `peers`: name -> "host:port" of its peer_listen.
  PeerLinks(boost::asio::any_io_executor executor, const core::Clock& clock, std::map<std::string, std::string> peers,
            core::Duration reconnect_every, OnMessage on_message, OnConnected on_connected = {});
  ~PeerLinks();

  // Opens the replication port; throws boost::system::system_error.
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Starts the outbound connections. A link that is down tries again every
  // `reconnect_every`, and at once when a peer connects to this node (it may
  // be that peer coming back).
  void start();
  // Queues `m` for `to`; dropped (and counted) when that link is down or its
  // queue is full.
  // An Append with entries goes on the data lane, all else on the control
  // lane (store/messages.h, Lane).
  void send(const std::string& to, const Message& m);
  // A frame already encoded (store/messages.h), on `lane`. False when it
  // was dropped (the link is down or its queue full).
  bool send_frame(const std::string& to, std::string frame, Lane lane);
  // Keeps the place of a frame still being encoded (a large value, on
  // another thread): frames queued after it wait for it. Call the returned
  // function with the frame, on the io thread, exactly once. An empty Fill
  // when the frame would be dropped (the link is down or its queue full):
  // encode nothing then.
  using Fill = std::function<void(std::string frame)>;
  Fill send_later(const std::string& to, Lane lane);
  void stop();

  std::map<std::string, Stats> stats() const;
  std::uint64_t bad_frames() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace failover::store
