#pragma once
// Servers from a registry: for each upstream with `discovery:`, a blocking
// query on its service that hands the instances to Control as servers
// whenever they change. No reload and no dropped connection; the LB's own
// active and passive checks still apply on top. When no registry answers,
// the servers last heard of stay: a registry outage must not empty an
// upstream that is serving fine.
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "lb/config.h"

namespace failover::client {
struct ServiceInstance;
}

namespace failover::lb {

class ControlLoop;

class Discovery {
 public:
  // Watches run on `control_io` and pause on `clock`, which must outlive
  // them. Construct, apply and destroy on control_io's thread (or while it
  // does not run): stopping a watch cancels its pause.
  Discovery(boost::asio::io_context& control_io, ControlLoop& control, const core::Clock& clock);
  ~Discovery();

  // Starts, keeps or restarts each upstream's watch to match `config`;
  // call after ControlLoop::apply, at start and on reload.
  void apply(const LbConfig& config);

  struct Watch;  // one upstream's blocking-query loop

 private:
  boost::asio::io_context& io_;
  ControlLoop& control_;
  const core::Clock& clock_;
  std::map<std::string, std::shared_ptr<Watch>> watches_;  // by upstream name
};

// A registry instance as a server: "[v6]:port" or "v4:port", weight and
// backup from meta ("weight": "1".."1000", "backup": "true"). Returns false
// for an address the LB cannot use.
bool server_from_instance(const client::ServiceInstance& instance, ServerConfig& out);

}  // namespace failover::lb
