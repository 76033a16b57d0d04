// One probe loop driven through whole cycles by a ManualClock: when probes
// happen, when the node goes down and comes back, and that stop ends it.
// Nothing sleeps: time moves by hand.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <vector>

#include "core/clock.h"
#include "health/runner.h"
#include "support/manual_time.h"
#include "support/probes.h"

namespace failover::health {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

struct Fixture {
  core::ManualClock clock;  // outlives the io_context: sleepers leave its list as their frames go
  asio::io_context io;
  CheckConfig check;
  bool healthy = true;                       // what the fake probe answers
  std::vector<core::TimePoint> probed;       // when each probe ran
  std::vector<std::pair<Change, core::TimePoint>> changes;
  std::unique_ptr<Target> target;
  std::stop_source stop;

  Fixture() {
    check.enabled = true;
    check.interval = 1000ms;
    check.fast_interval = 100ms;
    check.down_interval = 3000ms;
    check.rise = 2;
    check.fall = 3;
    target = std::make_unique<Target>(check, clock.now());
  }

  void start(double phase) {
    ProbeFn probe = [this]() -> asio::awaitable<ProbeResult> {
      probed.push_back(clock.now());
      co_return test::probe(healthy);
    };
    ResultFn on_result = [this](const ProbeResult& r) -> const Target& {
      const Change c = target->observe(r, clock.now());
      if (c == Change::kUp || c == Change::kDown) changes.emplace_back(c, clock.now());
      return *target;
    };
    asio::co_spawn(io, run_checks(clock, check, probe, on_result, stop.get_token(), phase), asio::detached);
  }
  core::Duration since(core::TimePoint start, std::size_t probe) const {
    return std::chrono::duration_cast<core::Duration>(probed.at(probe) - start);
  }
};

TEST(ProbeRunner, FirstProbeAtItsPhaseThenEveryIntervalWhileUp) {
  Fixture f;
  const core::TimePoint t0 = f.clock.now();
  f.start(0.5);  // a quarter interval: half of the allowed half
  test::run_for(f.io, f.clock, 249ms);
  EXPECT_TRUE(f.probed.empty());
  test::run_for(f.io, f.clock, 1ms);
  ASSERT_EQ(f.probed.size(), 1u);
  test::run_for(f.io, f.clock, 3000ms);
  ASSERT_EQ(f.probed.size(), 4u);
  EXPECT_EQ(f.since(t0, 1), 1250ms);
  EXPECT_EQ(f.since(t0, 3), 3250ms);
}

TEST(ProbeRunner, DetectsWithinIntervalPlusFastRetriesAndRecoversAtFastInterval) {
  Fixture f;
  const core::TimePoint t0 = f.clock.now();
  f.start(0.0);
  test::run_for(f.io, f.clock, 1ms);  // the first probe, at t0: up
  f.healthy = false;                  // the node dies right after it
  const core::TimePoint died = f.clock.now();
  test::run_for(f.io, f.clock, 2000ms);
  ASSERT_EQ(f.changes.size(), 1u);
  EXPECT_EQ(f.changes[0].first, Change::kDown);
  // interval to the first failure, then fall - 1 at fast_interval.
  EXPECT_EQ(f.changes[0].second - t0, 1000ms + 2 * 100ms);
  EXPECT_LE(f.changes[0].second - died, f.check.interval + (f.check.fall - 1) * f.check.fast_interval);
  // Settled down: probes every down_interval.
  const std::size_t before = f.probed.size();
  test::run_for(f.io, f.clock, 3000ms);
  EXPECT_EQ(f.probed.size(), before + 1);
  f.healthy = true;
  const core::TimePoint back = f.clock.now();
  test::run_for(f.io, f.clock, 4000ms);
  ASSERT_EQ(f.changes.size(), 2u);
  EXPECT_EQ(f.changes[1].first, Change::kUp);
  EXPECT_LE(f.changes[1].second - back, f.check.down_interval + (f.check.rise - 1) * f.check.fast_interval);
}

TEST(ProbeRunner, StopEndsTheLoopAndNoResultComesAfter) {
  Fixture f;
  f.start(0.0);
  test::run_for(f.io, f.clock, 1500ms);
  ASSERT_EQ(f.probed.size(), 2u);
  EXPECT_EQ(f.clock.sleepers(), 1u);
  f.stop.request_stop();
  test::run_for(f.io, f.clock, 10s);
  EXPECT_EQ(f.probed.size(), 2u);
  EXPECT_EQ(f.clock.sleepers(), 0u);
  EXPECT_TRUE(f.io.stopped()) << "the coroutine ended: nothing left to run";
}

TEST(ProbeRunner, ProbesAnotherPortWhenTheCheckSaysSo) {
  asio::io_context io;
  asio::ip::tcp::acceptor health_port(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto alive = health_port.local_endpoint();
  const asio::ip::tcp::endpoint dead(alive.address(), 1);  // nothing listens on port 1 here
  CheckConfig c;
  c.type = CheckType::kTcp;
  c.timeout = 1000ms;
  auto run = [&](asio::ip::tcp::endpoint traffic, int port) {
    c.port = port;
    ProbeResult r;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { r = co_await probe_endpoint(traffic, c)(); },
                   asio::detached);
    io.restart();
    io.run();
    return r.ok;
  };
  EXPECT_TRUE(run(dead, alive.port())) << "traffic port dead, health port alive: up";
  EXPECT_FALSE(run(alive, 1)) << "traffic port alive, health port dead: down";
  EXPECT_TRUE(run(alive, 0)) << "no port: the traffic port";
}

}  // namespace
}  // namespace failover::health
