#pragma once
// A TCP proxy that puts a fault (fault.h) on the link between clients and
// one upstream: `failover up` puts one in front of any component, and the
// drill cuts, slows or hangs that link through it. With no fault it passes
// bytes both ways as they come, half-closes as its peers do, and resets the
// client when the upstream refuses.
//
// Runs on one io_context thread; every call, set() included, is made on
// that thread. Time (the delay) is read through a core::Clock.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "drill/fault.h"

namespace failover::drill {

class FaultProxy {
 public:
  struct Stats {
    std::uint64_t accepted = 0;           // connections from clients
    std::uint64_t open = 0;               // open now
    std::uint64_t reset = 0;              // clients reset by a fault
    std::uint64_t upstream_failures = 0;  // connects to the upstream that failed (the client is reset)
    std::uint64_t bytes_to_upstream = 0, bytes_to_client = 0;
  };

  // `upstream`: host:port, resolved here, once. `seed` makes drop's
  // draws repeatable.
  FaultProxy(boost::asio::any_io_executor executor, const core::Clock& clock, std::string upstream,
             std::uint64_t seed = 1);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Opens the listening socket (port 0: any free port); throws
  // boost::system::system_error.
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  // Closes the listener and every connection.
  void stop();

  // Takes effect at once, on open connections too (fault.h says how).
  void set(const Fault& fault);
  const Fault& fault() const;
  const std::string& upstream() const;
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace failover::drill
