#pragma once
// Time behind one seam. Every loop (probes, heartbeats, lease ticks, drains,
// refreshes) reads now() and sleeps through a Clock, never steady_clock or a
// raw timer, so a test drives it with a ManualClock and never sleeps: the
// test moves time and the sleepers whose time has come wake up.
//
// Threads: a sleep runs on the executor of the coroutine that awaits it, and
// its stop must be requested on that executor's thread (cancelling an Asio
// timer is not thread-safe). A ManualClock is for one test thread.
#include <boost/asio/awaitable.hpp>
#include <map>
#include <mutex>
#include <stop_token>

#include "core/time.h"


namespace failover::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Suspends the calling coroutine until now() >= at (at once when `at` has
  // passed). Returns true then, or false as soon as `stop` is requested.
  virtual boost::asio::awaitable<bool> sleep_until(TimePoint at, std::stop_token stop = {}) const = 0;
  boost::asio::awaitable<bool> sleep_for(Duration d, std::stop_token stop = {}) const;
};

// A deadline to race I/O against: `co_await (io() || expire_at(clock, d))`.
// Ends when `at` comes on `clock`, or quietly when the race cancels it (a
// ManualClock's sleep throws once cancelled, which `||` would pass on when
// the caller itself is cancelled). Which side ended is the race's answer;
// a caller that may itself be cancelled checks that before calling it a
// timeout.
boost::asio::awaitable<void> expire_at(const Clock& clock, TimePoint at);

// The steady clock, the one production code uses.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return SteadyClockType::now(); }
  boost::asio::awaitable<bool> sleep_until(TimePoint at, std::stop_token stop = {}) const override;
  // The process-wide instance.
  static const SteadyClock& instance() {
    static const SteadyClock clock;
    return clock;
  }
};

// Starts at an arbitrary fixed point; only advance() moves it. Sleepers whose
// time has come are woken by advance() and resume when their io_context runs
// next (tests call io.poll(), or tests/support's run_for to move time and run
// in steps, so chained sleeps fire in order). It must outlive the io_contexts
// whose coroutines sleep on it.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override;
  boost::asio::awaitable<bool> sleep_until(TimePoint at, std::stop_token stop = {}) const override;
  void advance(SteadyClockType::duration d);
  // The earliest time a sleeper waits for, or TimePoint::max() when none does.
  TimePoint next_wake() const;
  // How many coroutines sleep on this clock now.
  std::size_t sleepers() const;

 private:
  struct Waker;  // wakes one sleeper (its timer, cancelled)
  mutable std::mutex mutex_;
  TimePoint now_ = TimePoint(std::chrono::hours(1000));
  mutable std::multimap<TimePoint, Waker*> sleepers_;
};

}  // namespace failover::core
