// core::Clock's sleeps: a ManualClock wakes sleepers when a test moves it,
// and a stop wakes them at once.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "support/manual_time.h"

namespace failover::core {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

TEST(ManualClock, SleeperWakesWhenTimeComesNotBefore) {
  ManualClock clock;  // outlives the io_context: sleepers leave its list as their frames go
  asio::io_context io;
  int woke = 0;
  bool result = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    result = co_await clock.sleep_for(100ms);
    ++woke;
  }, asio::detached);
  io.poll();
  EXPECT_EQ(clock.sleepers(), 1u);
  EXPECT_EQ(clock.next_wake(), clock.now() + 100ms);
  clock.advance(99ms);
  io.poll();
  EXPECT_EQ(woke, 0);
  clock.advance(1ms);
  io.poll();
  EXPECT_EQ(woke, 1);
  EXPECT_TRUE(result);
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST(ManualClock, StopWakesASleeperAtOnceWithFalse) {
  ManualClock clock;  // outlives the io_context: sleepers leave its list as their frames go
  asio::io_context io;
  std::stop_source stop;
  std::optional<bool> result;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    result = co_await clock.sleep_for(1h, stop.get_token());
  }, asio::detached);
  io.poll();
  stop.request_stop();
  io.poll();
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
}

TEST(ManualClock, RunForFiresChainedSleepsInOrder) {
  ManualClock clock;  // outlives the io_context: sleepers leave its list as their frames go
  asio::io_context io;
  std::vector<TimePoint> ticks;
  const TimePoint t0 = clock.now();
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      co_await clock.sleep_for(30ms);
      ticks.push_back(clock.now());
    }
  }, asio::detached);
  test::run_for(io, clock, 100ms);
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[2] - t0, 90ms);
  EXPECT_EQ(clock.now() - t0, 100ms);
}

TEST(SteadyClock, SleepPassedAlreadyReturnsAtOnce) {
  asio::io_context io;
  std::optional<bool> result;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    result = co_await SteadyClock::instance().sleep_until(SteadyClock::instance().now() - 1s);
  }, asio::detached);
  io.run();
  EXPECT_EQ(result, true);
}

}  // namespace
}  // namespace failover::core
