// The registry's lease tick (registry::run_ticks, the loop the role runs)
// on a ManualClock: a lease runs out when the clock passes its ttl, through
// the real loop, and never because the wall clock moved.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

#include "core/clock.h"
#include "registry/service.h"
#include "support/manual_time.h"

namespace failover::registry {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(RegistryTick, LeaseExpiresWhenTheClockPassesItsTtlThroughTheTickLoop) {
  core::ManualClock clock;  // outlives the io_context
  asio::io_context io;
  Registry registry(clock, {});
  ASSERT_EQ(registry.put("web", "a", {.address = "10.0.0.1", .port = 8080, .ttl = 1000ms}), Status::kCreated);
  std::stop_source stop;
  bool ended = false;
  asio::co_spawn(io, run_ticks(registry, clock, 10ms, stop.get_token()), [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    ended = true;
  });

  test::run_for(io, clock, 999ms);
  ASSERT_TRUE(registry.query("web").has_value());
  EXPECT_EQ(registry.query("web")->instances.size(), 1u);

  test::run_for(io, clock, 10ms);  // the ttl, plus at most one tick
  EXPECT_TRUE(registry.query("web")->instances.empty());
  EXPECT_EQ(registry.counters().expiries, 1u);

  stop.request_stop();
  io.poll();
  EXPECT_TRUE(ended);
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST(RegistryTick, NothingExpiresWhileTheClockStands) {
  core::ManualClock clock;
  asio::io_context io;
  Registry registry(clock, {});
  registry.put("web", "a", {.address = "10.0.0.1", .port = 8080, .ttl = 100ms});
  std::stop_source stop;
  asio::co_spawn(io, run_ticks(registry, clock, 10ms, stop.get_token()), [](std::exception_ptr) {});
  io.poll();
  EXPECT_EQ(clock.sleepers(), 1u);  // the loop waits on this clock only
  EXPECT_EQ(registry.query("web")->instances.size(), 1u);
  test::run_for(io, clock, 110ms);
  EXPECT_TRUE(registry.query("web")->instances.empty());
  stop.request_stop();
  io.poll();
}

}  // namespace
}  // namespace failover::registry
