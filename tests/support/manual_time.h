#pragma once
// Moving a ManualClock while an io_context runs the coroutines that sleep on
// it: time jumps from one wake-up to the next and the woken coroutines run
// before the next jump, so chained sleeps fire in order, as they would in
// real time, without a test ever sleeping.
#include <boost/asio/io_context.hpp>

#include "core/clock.h"

namespace failover::test {

// Runs what is ready now, then moves `clock` forward by `d` in steps.
inline void run_for(boost::asio::io_context& io, core::ManualClock& clock,
                    core::SteadyClockType::duration d) {
  const core::TimePoint until = clock.now() + std::chrono::duration_cast<core::TimePoint::duration>(d);
  io.restart();
  io.poll();
  for (int steps = 0; steps < 1'000'000; ++steps) {  // a bound, should a sleeper never leave
    const core::TimePoint next = clock.next_wake();
    if (next > until) break;
    clock.advance(next - clock.now());
    io.restart();
    io.poll();
  }
  clock.advance(until - clock.now());
  io.restart();
  io.poll();
}

}  // namespace failover::test

namespace failover::test {

// Runs `io` in real time, without moving any clock, until `done()` holds or
// `limit` passes; returns done(). For real I/O (a loopback server and its
// client) between two moves of a ManualClock: what a test asserts is what
// happened, never how long it took.
template <class Done>
bool run_until(boost::asio::io_context& io, Done done,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < until) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace failover::test
