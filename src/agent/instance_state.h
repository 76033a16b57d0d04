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

#include "core/clock.h"
#include "health/rise_fall.h"

namespace failover::agent {

enum class Action { kNone, kRegister, kHeartbeat, kReportFailed };

enum class Outcome { kOk, kNotFound, kFailed };

class InstanceState {
 public:
  // `checked`: false when the service has no check (heartbeats always).
  InstanceState(std::chrono::milliseconds ttl, bool checked, int rise, int fall)
      : ttl_(ttl), rise_fall_(rise, fall, !checked) {}

  // After each probe.
  Action on_probe(bool ok, core::TimePoint now) {
    const health::Change change = rise_fall_.observe(ok);
    if (change == health::Change::kDown && registered_) return Action::kReportFailed;
    if (change == health::Change::kUp) return registered_ ? Action::kHeartbeat : Action::kRegister;
    return Action::kNone;
  }

  // What is due now, apart from probes.
  Action due(core::TimePoint now) const {
    if (!rise_fall_.up()) return Action::kNone;
    if (!registered_) return now >= retry_at_ ? Action::kRegister : Action::kNone;
    return now >= next_heartbeat_ ? Action::kHeartbeat : Action::kNone;
  }

  // When due() may next return something (for the caller's timer).
  core::TimePoint next_due() const { return registered_ ? next_heartbeat_ : retry_at_; }

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

  bool healthy() const { return rise_fall_.up(); }
  bool registered() const { return registered_; }
  const health::RiseFall& rise_fall() const { return rise_fall_; }

 private:
  std::chrono::milliseconds ttl_;
  health::RiseFall rise_fall_;
  bool registered_ = false;
  core::TimePoint retry_at_{};
  core::TimePoint next_heartbeat_{};
};

}  // namespace failover::agent
