#pragma once
// Time behind one seam: production code asks a Clock, tests drive a
// ManualClock by hand so that state machines are tested without sleeping.
#include <chrono>

namespace failover::core {

using SteadyClockType = std::chrono::steady_clock;
using TimePoint = SteadyClockType::time_point;
using Duration = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return SteadyClockType::now(); }
  // The process-wide instance production code uses.
  static const SteadyClock& instance() {
    static const SteadyClock clock;
    return clock;
  }
};

// Starts at an arbitrary fixed point; only advance() moves it.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(SteadyClockType::duration d) { now_ += d; }

 private:
  TimePoint now_ = TimePoint(std::chrono::hours(1000));
};

// Milliseconds from a to b, for logs and JSON.
inline long long millis_between(TimePoint a, TimePoint b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

}  // namespace failover::core
