#pragma once
// What the agent tells the registry about one local service instance,
// decided from probe results, registry answers and the time. No I/O: the
// agent's coroutine performs the returned Action and reports how it went.
//
//   probe passes (rise in a row)  -> register, then heartbeat every ttl/3
//   probe fails (fall in a row)   -> report it at once (the instance turns
//                                    unhealthy now, not when its lease runs
//                                    out), then stay silent
//   registry forgot it (404)      -> register again
//   registry unreachable          -> try again at the next heartbeat time
#include <algorithm>
#include <chrono>

#include "core/time.h"
#include "health/target.h"

namespace failover::agent {

enum class Action { kNone, kRegister, kHeartbeat, kReportFailed };

enum class Outcome { kOk, kNotFound, kFailed };

class InstanceState {
 public:
  // Without a check (check.enabled false) the service counts as healthy and
  // heartbeats always; with one it starts as check.initial_up says (the
  // agent's config makes that down unless `initial: up`).
  InstanceState(std::chrono::milliseconds ttl, const health::CheckConfig& check, core::TimePoint now)
      : ttl_(ttl), health_(check, now) {}

  // After each probe.
  Action on_probe(const health::ProbeResult& result, core::TimePoint now) {
    const health::Change change = health_.observe(result, now);
    if (change == health::Change::kDown && registered_) return Action::kReportFailed;
    if (change == health::Change::kUp) return registered_ ? Action::kHeartbeat : Action::kRegister;
    return Action::kNone;
  }

  // What is due now, apart from probes.
  Action due(core::TimePoint now) const {
    if (!health_.up()) return Action::kNone;
    if (!registered_) return now >= retry_at_ ? Action::kRegister : Action::kNone;
    return now >= next_heartbeat_ ? Action::kHeartbeat : Action::kNone;
  }

  // When due() may next return something (for the caller's sleep);
  // TimePoint::max() while unhealthy: then only a probe changes it.
  core::TimePoint next_due() const {
    if (!health_.up()) return core::TimePoint::max();
    return registered_ ? next_heartbeat_ : retry_at_;
  }

  // How the action went.
  void on_result(Action action, Outcome outcome, core::TimePoint now) {
    if (outcome == Outcome::kNotFound) {
      registered_ = false;  // forgotten (registry restart, expiry): register at once
      retry_at_ = now;
      return;
    }
    if (outcome == Outcome::kFailed) {
      // Registry unreachable: keep the state, try again a heartbeat later.
      retry_at_ = now + heartbeat_interval();
      next_heartbeat_ = now + heartbeat_interval();
      return;
    }
    if (action == Action::kRegister || action == Action::kHeartbeat) registered_ = true;
    next_heartbeat_ = now + heartbeat_interval();
  }

  // Three heartbeats per ttl: one lost heartbeat does not cost the lease.
  std::chrono::milliseconds heartbeat_interval() const {
    return std::max(ttl_ / 3, std::chrono::milliseconds(10));
  }

  bool healthy() const { return health_.up(); }
  bool registered() const { return registered_; }
  const health::Target& health() const { return health_; }

 private:
  std::chrono::milliseconds ttl_;
  health::Target health_;
  bool registered_ = false;
  core::TimePoint retry_at_{};
  core::TimePoint next_heartbeat_{};
};

}  // namespace failover::agent
