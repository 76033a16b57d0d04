#pragma once
// Passive (outlier) ejection: failures seen by real requests eject a server
// for a while, without waiting for active checks. One instance per server,
// owned by one thread. No I/O: the caller passes `now`.
#include <deque>

#include "core/time.h"
#include "health/passive_config.h"

namespace failover::health {

class PassiveEjector {
 public:
  explicit PassiveEjector(PassiveConfig config) : config_(config) {}

  // A failed attempt at `now`. Returns true when this failure ejects the
  // server: `max_fails` failures within `fail_timeout`. The ejection lasts
  // fail_timeout << level, where level counts ejections that followed the
  // previous one "soon" (before the server had stayed healthy for twice the
  // previous ejection), capped at max_ejection. Failures while ejected are
  // ignored (retries elsewhere keep them coming).
  bool on_failure(core::TimePoint now);

  // An active check found the server healthy again: the ejection ends now
  // (its back-off level stays, so a flapping server is still damped).
  void end_ejection(core::TimePoint now) {
    if (ejected_until_ > now) ejected_until_ = now;
  }

  bool ejected(core::TimePoint now) const { return now < ejected_until_; }
  core::TimePoint ejected_until() const { return ejected_until_; }
  // Ejections since start (for /status and metrics).
  int ejections() const { return ejections_; }
  // Current back-off level: 0 after the server stayed healthy long enough.
  int level(core::TimePoint now) const;
  // Failures counted in the current window.
  int recent_failures(core::TimePoint now) const;

  // A reload may change the thresholds; history stays.
  void set_config(PassiveConfig config) { config_ = config; }
  const PassiveConfig& config() const { return config_; }

 private:
  PassiveConfig config_;
  std::deque<core::TimePoint> failures_;  // within the window, oldest first; at most max_fails
  core::TimePoint ejected_until_{};
  core::TimePoint ejected_at_{};
  std::chrono::milliseconds last_ejection_{0};
  int level_ = 0;
  int ejections_ = 0;
};

}  // namespace failover::health
