#pragma once
// When to probe next, as HAProxy's srv_getinter decides it: `interval` while
// the state is settled up, `fast_interval` while a change is pending and
// `down_interval` while settled down; never under 1 ms, so a zero cannot
// spin. The first probe comes at a random phase within half an interval, so
// nodes started together do not probe in lock-step; after that the period is
// fixed, which keeps the detection bound at
//   interval + (fall - 1) x fast_interval + timeout  (= fall x interval + timeout by default).
// Pure: the random draw and the time come from the caller.
#include <algorithm>

#include "core/time.h"
#include "health/check_config.h"
#include "health/target.h"

namespace failover::health {

class Schedule {
 public:
  explicit Schedule(const CheckConfig& check) : check_(check) {}

  // `unit` is a random draw in [0, 1).
  core::TimePoint first(core::TimePoint now, double unit) const {
    const auto phase = std::chrono::duration<double, std::milli>(check_.interval) * unit / 2;
    return now + std::chrono::duration_cast<core::Duration>(phase);
  }

  core::Duration interval(const Target& t) const {
    core::Duration d = check_.interval;
    if (t.pending() && check_.fast_interval.count() > 0) d = check_.fast_interval;
    else if (!t.up() && !t.pending() && check_.down_interval.count() > 0) d = check_.down_interval;
    return std::max(d, core::Duration(1));
  }

  // The probe after one that started at `started` and ended at `now`: a
  // probe that ran long makes the next one come at once, not late too.
  core::TimePoint next(core::TimePoint started, core::TimePoint now, const Target& t) const {
    return std::max(started + interval(t), now);
  }

 private:
  CheckConfig check_;
};

}  // namespace failover::health
