#pragma once
// Points and spans of time, as every state machine takes them from its
// caller. Plain C++ on purpose: parsers and state machines that include it
// build anywhere (the fuzz build has no coroutines). The clock that produces
// them, and sleeps on them, is core/clock.h.
#include <chrono>

namespace failover::core {

using SteadyClockType = std::chrono::steady_clock;
using TimePoint = SteadyClockType::time_point;
using Duration = std::chrono::milliseconds;

// Milliseconds from a to b, for logs and JSON.
inline long long millis_between(TimePoint a, TimePoint b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

}  // namespace failover::core
