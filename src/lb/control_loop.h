#pragma once
// The control thread of `failover lb`: it owns the Control state machine,
// carries out its Effects (probe loops, republish timers, snapshots to the
// workers) and writes its events to the log. Every method runs on the
// control io_context; workers reach it only by posting.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>

#include "core/clock.h"
#include "lb/control.h"

namespace failover::lb {

class ControlLoop {
 public:
  using Publish = std::function<void(std::shared_ptr<const Snapshot>)>;

  ControlLoop(boost::asio::io_context& io, const core::Clock& clock, Publish publish);
  ~ControlLoop();  // stops every probe loop and timer

  void apply(const LbConfig& config);
  void set_discovered(const std::string& upstream, std::vector<ServerConfig> servers);
  void set_discovery_state(const std::string& upstream, Control::DiscoveryState state);
  void on_failure(const std::shared_ptr<ServerHealth>& server, std::string cause);
  // False when there is no such upstream/server.
  bool set_admin(std::string_view upstream, std::string_view address, AdminState state);

  const Control& control() const { return control_; }
  const LbConfig& config() const { return control_.config(); }
  std::string status_json() const { return control_.status_json(clock_.now()); }
  void metrics(core::MetricsWriter& out) const { control_.metrics(out, clock_.now()); }

 private:
  void carry_out(Effects effects);
  void start_checks(const std::shared_ptr<ServerHealth>& server);
  void wake_at(core::TimePoint at);

  boost::asio::io_context& io_;
  const core::Clock& clock_;
  Publish publish_;
  Control control_;
  std::map<const ServerHealth*, std::stop_source> checks_;  // one probe loop per checked server
  std::stop_source wake_stop_;  // the pending republish
  core::TimePoint wake_ = core::TimePoint::max();
};

}  // namespace failover::lb
