#pragma once
#include <algorithm>
#include <chrono>

#include "core/time.h"

namespace failover::health {

// Share of its weight a server that came back up at `up_since` gets at `now`:
// a linear ramp from 1/10 to 1 over `slow_start` (0: full at once). The floor
// keeps a returning server from getting no traffic at all.
inline double slow_start_factor(core::TimePoint up_since, std::chrono::milliseconds slow_start,
                                core::TimePoint now) {
  if (slow_start.count() <= 0) return 1.0;
  const double elapsed = std::chrono::duration<double>(now - up_since).count();
  const double total = std::chrono::duration<double>(slow_start).count();
  return std::clamp(elapsed / total, 0.1, 1.0);
}

}  // namespace failover::health
