// health::Target and health::Schedule: the rise/fall state every role keeps,
// and when the next probe comes, on a clock that moves by hand.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "health/schedule.h"
#include "health/target.h"
#include "support/probes.h"

namespace failover::health {
namespace {

using namespace std::chrono_literals;

using test::pass;
using test::refused;

CheckConfig check(int rise, int fall) {
  CheckConfig c;
  c.enabled = true;
  c.rise = rise;
  c.fall = fall;
  c.interval = 1000ms;
  return c;
}

TEST(HealthTarget, GoesDownAfterFallFailuresAndSaysWhy) {
  core::ManualClock clock;
  Target t(check(2, 3), clock.now());
  EXPECT_TRUE(t.up());
  clock.advance(1s);
  EXPECT_EQ(t.observe(refused(), clock.now()), Change::kPending);
  EXPECT_TRUE(t.pending());
  EXPECT_EQ(t.reason(), "active check failing (1 of 3, last: refused)");
  EXPECT_EQ(t.observe(refused(), clock.now()), Change::kPending);
  clock.advance(1s);
  EXPECT_EQ(t.observe(refused(), clock.now()), Change::kDown);
  EXPECT_FALSE(t.up());
  EXPECT_FALSE(t.pending());
  EXPECT_EQ(t.since(), clock.now());
  EXPECT_EQ(t.reason(),
            "active check failed 3 times in a row (last: refused); up again after 2 passing checks (0 so far)");
}

TEST(HealthTarget, ComesBackAfterRiseSuccessesAndASuccessResetsTheFailures) {
  core::ManualClock clock;
  Target t(check(2, 2), clock.now());
  t.observe(refused(), clock.now());
  t.observe(pass(), clock.now());
  EXPECT_EQ(t.observe(refused(), clock.now()), Change::kPending) << "not two in a row";
  EXPECT_EQ(t.observe(refused(), clock.now()), Change::kDown);
  EXPECT_EQ(t.observe(pass(), clock.now()), Change::kPending);
  EXPECT_TRUE(t.pending());
  clock.advance(5s);
  EXPECT_EQ(t.observe(pass(), clock.now()), Change::kUp);
  EXPECT_EQ(t.since(), clock.now());
  EXPECT_EQ(t.reason(), "active check passing");
}

TEST(HealthTarget, InitialDownWaitsForRisePasses) {
  core::ManualClock clock;
  CheckConfig c = check(3, 1);
  c.initial_up = false;
  Target t(c, clock.now());
  EXPECT_FALSE(t.up());
  EXPECT_EQ(t.reason(), "starts down (initial: down) until 3 checks pass (0 so far)");
  t.observe(pass(), clock.now());
  EXPECT_EQ(t.reason(), "starts down (initial: down) until 3 checks pass (1 so far)");
  t.observe(pass(), clock.now());
  EXPECT_EQ(t.observe(pass(), clock.now()), Change::kUp);
}

TEST(HealthTarget, WithoutCheckItIsUpWhateverInitialSays) {
  core::ManualClock clock;
  CheckConfig c;
  c.initial_up = false;
  Target t(c, clock.now());
  EXPECT_TRUE(t.up());
  EXPECT_EQ(t.reason(), "no active check");
}

TEST(HealthTarget, ReloadKeepsStateButSwitchingChecksOffBringsItUp) {
  core::ManualClock clock;
  Target t(check(1, 1), clock.now());
  t.observe(refused(), clock.now());
  ASSERT_FALSE(t.up());
  t.reconfigure(check(5, 5), clock.now());
  EXPECT_FALSE(t.up()) << "a reload does not revive a dead node";
  EXPECT_EQ(t.rise(), 5);
  CheckConfig off;
  clock.advance(1s);
  t.reconfigure(off, clock.now());
  EXPECT_TRUE(t.up());
  EXPECT_EQ(t.since(), clock.now());
}

TEST(HealthTarget, KeepsTheLastTenChecks) {
  core::ManualClock clock;
  Target t(check(1, 100), clock.now());
  for (int i = 0; i < 15; ++i) {
    clock.advance(1s);
    t.observe(i % 2 == 0 ? pass() : refused(), clock.now());
  }
  ASSERT_EQ(t.history().size(), Target::kHistory);
  EXPECT_EQ(t.history().back().at, clock.now());
  EXPECT_TRUE(t.history().back().result.ok);
}

TEST(HealthSchedule, IntervalFollowsStateAsHaproxyInterFastinterDowninter) {
  core::ManualClock clock;
  CheckConfig c = check(2, 3);
  c.fast_interval = 100ms;
  c.down_interval = 5000ms;
  const Schedule s(c);
  Target t(c, clock.now());
  EXPECT_EQ(s.interval(t), 1000ms) << "settled up";
  t.observe(refused(), clock.now());
  EXPECT_EQ(s.interval(t), 100ms) << "a change is pending";
  t.observe(refused(), clock.now());
  t.observe(refused(), clock.now());
  EXPECT_EQ(s.interval(t), 5000ms) << "settled down";
  t.observe(pass(), clock.now());
  EXPECT_EQ(s.interval(t), 100ms) << "coming back";
}

TEST(HealthSchedule, DefaultsToIntervalAndNeverGoesUnderOneMillisecond) {
  core::ManualClock clock;
  CheckConfig c = check(1, 1);
  const Target t(c, clock.now());
  EXPECT_EQ(Schedule(c).interval(t), 1000ms);
  c.interval = 0ms;
  EXPECT_EQ(Schedule(c).interval(t), 1ms);
}

TEST(HealthSchedule, FirstProbeWithinHalfAnIntervalThenFixedPeriod) {
  core::ManualClock clock;
  const CheckConfig c = check(1, 1);
  const Schedule s(c);
  const Target t(c, clock.now());
  EXPECT_EQ(s.first(clock.now(), 0.0), clock.now());
  EXPECT_EQ(s.first(clock.now(), 0.999), clock.now() + 499ms);
  const core::TimePoint started = clock.now();
  EXPECT_EQ(s.next(started, started + 30ms, t), started + 1000ms) << "a fixed period, not after the probe";
  EXPECT_EQ(s.next(started, started + 1500ms, t), started + 1500ms) << "a slow probe: the next at once";
}

}  // namespace
}  // namespace failover::health
