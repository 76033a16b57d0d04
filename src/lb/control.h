#pragma once
// The load balancer's health state as one state machine: the config, probe
// results, passive failures, admin actions and registry lists go in, each
// with `now`; a snapshot for the workers and the Effects to carry out come
// out. No I/O, no clock, no logging: lb::ControlLoop (control_loop.h) owns
// one on the control thread, runs the probes it asks for and logs its events.
#include <boost/asio/ip/tcp.hpp>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics_writer.h"
#include "core/time.h"
#include "health/passive.h"
#include "health/target.h"
#include "lb/config.h"
#include "lb/model.h"

namespace failover::core {
class MetricsWriter;
}

namespace failover::lb {

enum class AdminState { kNone, kDown, kDrain };
const char* admin_state_name(AdminState s);

struct FailureRecord {
  core::TimePoint at;
  std::string cause;  // "refused", "timeout", "reset", "bad_response", "status_503", ...
};

// One server's health; lives across reloads while the server stays in the
// config, so a reload never resets what checks have learnt. Only Control
// changes it; everyone else reads.
class ServerHealth {
 public:
  ServerHealth(std::string upstream, ServerConfig config, boost::asio::ip::tcp::endpoint endpoint,
               const UpstreamConfig& up, core::TimePoint now);

  bool available(core::TimePoint now) const;  // may get new requests
  bool in_slow_start(core::TimePoint now) const;
  int effective_weight(core::TimePoint now) const;  // x100
  std::string state_name(core::TimePoint now) const;  // "up" | "down" | "drain"
  std::string reason(core::TimePoint now) const;      // why it is in that state
  core::TimePoint state_since() const;                // last change of state_name's up/down

  const std::string& upstream() const { return upstream_; }
  const ServerConfig& config() const { return config_; }
  const boost::asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }
  const health::CheckConfig& check() const { return check_; }
  const health::Target& health() const { return health_; }
  const health::PassiveEjector& ejector() const { return ejector_; }
  AdminState admin() const { return admin_; }
  const std::deque<FailureRecord>& failures() const { return failures_; }
  bool removed() const { return removed_; }
  const std::shared_ptr<ServerStats>& stats() const { return stats_; }

  static constexpr std::size_t kHistory = 10;

 private:
  friend class Control;
  // Takes the upstream's new settings on reload; state and counters stay.
  void reconfigure(const ServerConfig& config, const UpstreamConfig& up, core::TimePoint now);
  void record_failure(core::TimePoint now, std::string cause);

  std::string upstream_;
  ServerConfig config_;
  boost::asio::ip::tcp::endpoint endpoint_;
  health::CheckConfig check_;
  std::chrono::milliseconds slow_start_{0};
  health::Target health_;
  health::PassiveEjector ejector_;
  AdminState admin_ = AdminState::kNone;
  core::TimePoint up_since_;  // last transition to up, for slow start
  std::deque<FailureRecord> failures_;
  bool removed_ = false;
  std::shared_ptr<ServerStats> stats_ = std::make_shared<ServerStats>();
};

// Something worth a log line, said by Control and written by its owner.
struct Event {
  enum class Kind { kDown, kUp, kEjected, kRemoved, kPanic, kPanicOver, kNoServer, kAdmin, kTooManyServers };
  Kind kind;
  std::string upstream;
  std::string server;  // empty for upstream-wide events
  std::string detail;  // e.g. "3 failed checks in a row, last: refused"
};

// What the owner does after an event.
struct Effects {
  bool publish = false;  // the snapshot changed: hand Control::snapshot() to the workers
  std::vector<std::shared_ptr<ServerHealth>> start_checks;  // (re)start each one's probe loop
  std::vector<std::shared_ptr<ServerHealth>> stop_checks;   // stop each one's probe loop
  std::vector<Event> events;
  // Call Control::tick then: an ejection ends or slow start moves on.
  core::TimePoint wake = core::TimePoint::max();
};

class Control {
 public:
  explicit Control(core::TimePoint now) : started_(now) {}

  // Installs a config at start and on reload. Servers present before keep
  // their health; probes restart only where the check changed.
  Effects apply(const LbConfig& config, core::TimePoint now);

  // The servers a registry lists for `upstream` (discovery:), replacing the
  // ones it listed before. They join the config's fixed servers; a server
  // listed before and now keeps its health, as across a reload.
  Effects set_discovered(const std::string& upstream, std::vector<ServerConfig> servers,
                         core::TimePoint now);

  // What the discovery of an upstream last heard, for /status.
  struct DiscoveryState {
    std::string registry;       // the registry URL in use
    std::uint64_t index = 0;    // the service's index at the last answer
    bool protected_mode = false;
    std::string error;          // the last failure; empty after a good answer
  };
  void set_discovery_state(const std::string& upstream, DiscoveryState state);

  // An active probe of `server` finished.
  Effects on_check(ServerHealth& server, const health::ProbeResult& r, core::TimePoint now);
  // A worker saw an attempt fail. Counts toward passive ejection.
  Effects on_failure(ServerHealth& server, std::string cause, core::TimePoint now);
  // Admin actions; nothing (no Effects) when there is no such upstream/server.
  std::optional<Effects> set_admin(std::string_view upstream, std::string_view address,
                                   AdminState state, core::TimePoint now);
  // At Effects::wake: time alone changed something.
  Effects tick(core::TimePoint now);

  // The snapshot built at the last publish; never null after apply().
  std::shared_ptr<const Snapshot> snapshot() const { return snapshot_; }
  // The servers of an upstream; nullptr if unknown.
  const std::vector<std::shared_ptr<ServerHealth>>* servers(std::string_view upstream) const;
  const LbConfig& config() const { return config_; }

  // GET /status (JSON) and the per-server part of GET /metrics.
  std::string status_json(core::TimePoint now) const;
  void metrics(core::MetricsWriter& out, core::TimePoint now) const;

 private:
  struct Upstream {
    UpstreamConfig config;
    std::vector<std::shared_ptr<ServerHealth>> servers;
    bool panic = false;
  };

  // `uc` with the servers its registry lists added.
  UpstreamConfig with_discovered(const UpstreamConfig& uc, Effects& effects) const;
  // Builds the snapshot; says so in `effects`, with panic changes and the wake time.
  void publish(core::TimePoint now, Effects& effects);

  LbConfig config_;
  std::map<std::string, std::vector<ServerConfig>> discovered_;  // upstream -> servers from its registry
  std::map<std::string, DiscoveryState> discovery_state_;
  std::vector<Upstream> upstreams_;
  std::shared_ptr<const Snapshot> snapshot_;
  core::TimePoint started_;
};

}  // namespace failover::lb
