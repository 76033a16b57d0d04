#pragma once
// The control thread of `failover lb`: it alone owns health state (active
// checks, passive ejection, admin overrides, slow start) and publishes it to
// the workers as immutable Snapshots. Every method runs on the control
// io_context; workers reach it only by posting.
#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "health/passive.h"
#include "health/probe.h"
#include "health/rise_fall.h"
#include "lb/config.h"
#include "lb/model.h"

namespace failover::core {
class MetricsWriter;
}

namespace failover::lb {

enum class AdminState { kNone, kDown, kDrain };
const char* admin_state_name(AdminState s);

struct CheckRecord {
  core::TimePoint at;
  health::ProbeResult result;
};

struct FailureRecord {
  core::TimePoint at;
  std::string cause;  // "refused", "timeout", "reset", "bad_response", "status_503", ...
};

// One server's health; lives across reloads while the server stays in the
// config, so a reload never resets what checks have learnt.
class ServerHealth {
 public:
  ServerHealth(std::string upstream, ServerConfig config, boost::asio::ip::tcp::endpoint endpoint,
               const UpstreamConfig& up, core::TimePoint now);

  // Takes the upstream's new settings on reload; state and counters stay.
  void reconfigure(const ServerConfig& config, const UpstreamConfig& up);

  bool available(core::TimePoint now) const;  // may get new requests
  bool in_slow_start(core::TimePoint now) const;
  int effective_weight(core::TimePoint now) const;  // x100
  std::string state_name(core::TimePoint now) const;  // "up" | "down" | "drain"
  std::string reason(core::TimePoint now) const;      // why it is in that state

  void record_check(core::TimePoint now, const health::ProbeResult& r);
  void record_failure(core::TimePoint now, std::string cause);  // true: just ejected

  std::string upstream;
  ServerConfig config;
  boost::asio::ip::tcp::endpoint endpoint;
  health::CheckConfig check;
  std::chrono::milliseconds slow_start{0};
  health::RiseFall rise_fall;
  health::PassiveEjector ejector;
  AdminState admin = AdminState::kNone;
  core::TimePoint up_since;          // last transition to up, for slow start
  core::TimePoint state_since;       // last transition either way
  std::deque<CheckRecord> checks;    // newest last, at most kHistory
  std::deque<FailureRecord> failures;
  std::uint64_t probe_epoch = 0;     // a probe loop exits when this moves on
  bool removed = false;
  std::shared_ptr<ServerStats> stats = std::make_shared<ServerStats>();

  static constexpr std::size_t kHistory = 10;
};

class Control {
 public:
  using Publish = std::function<void(std::shared_ptr<const Snapshot>)>;

  Control(boost::asio::io_context& io, const core::Clock& clock, Publish publish);

  // Installs a config at start and on reload. Servers present before keep
  // their ServerHealth; probes restart only where the check changed.
  void apply(const LbConfig& config);

  // The servers a registry lists for `upstream` (discovery:), replacing the
  // ones it listed before. They join the config's fixed servers; a server
  // listed before and now keeps its health, as across a reload.
  void set_discovered(const std::string& upstream, std::vector<ServerConfig> servers);

  // What the discovery of an upstream last heard, for /status.
  struct DiscoveryState {
    std::string registry;       // the registry URL in use
    std::uint64_t index = 0;    // the service's index at the last answer
    bool protected_mode = false;
    std::string error;          // the last failure; empty after a good answer
  };
  void set_discovery_state(const std::string& upstream, DiscoveryState state);

  // A worker saw an attempt fail. Counts toward passive ejection.
  void on_failure(const std::shared_ptr<ServerHealth>& server, std::string cause);

  // An active probe of `server` finished (called by the probe loop; public
  // so tests can drive the state machine without sockets).
  void on_check(ServerHealth& server, const health::ProbeResult& r);

  // The servers of an upstream, for tests and admin; nullptr if unknown.
  const std::vector<std::shared_ptr<ServerHealth>>* servers(std::string_view upstream) const;

  // Admin actions; false when no such upstream/server.
  bool set_admin(std::string_view upstream, std::string_view address, AdminState state);

  // GET /status (JSON) and the per-server part of GET /metrics.
  std::string status_json() const;
  void metrics(core::MetricsWriter& out) const;
  const LbConfig& config() const { return config_; }

 private:
  struct Upstream {
    UpstreamConfig config;
    std::vector<std::shared_ptr<ServerHealth>> servers;
    bool panic = false;
  };

  // `uc` with the servers its registry lists added.
  UpstreamConfig with_discovered(const UpstreamConfig& uc) const;
  void publish();
  void start_probe(const std::shared_ptr<ServerHealth>& server);
  void schedule_republish(core::TimePoint at);

  boost::asio::io_context& io_;
  const core::Clock& clock_;
  Publish publish_;
  LbConfig config_;
  std::map<std::string, std::vector<ServerConfig>> discovered_;  // upstream -> servers from its registry
  std::map<std::string, DiscoveryState> discovery_state_;
  std::vector<Upstream> upstreams_;
  core::TimePoint started_;
  core::TimePoint next_republish_{core::TimePoint::max()};
};

}  // namespace failover::lb
