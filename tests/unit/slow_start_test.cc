#include "health/slow_start.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace failover::health {
namespace {

using namespace std::chrono_literals;

TEST(SlowStart, ZeroDurationGivesFullWeightAtOnce) {
  core::ManualClock clock;
  EXPECT_DOUBLE_EQ(slow_start_factor(clock.now(), 0ms, clock.now()), 1.0);
}

TEST(SlowStart, StartsAtTheFloor) {
  core::ManualClock clock;
  const auto up_since = clock.now();
  EXPECT_DOUBLE_EQ(slow_start_factor(up_since, 10s, clock.now()), 0.1);
  clock.advance(500ms);  // 5% of the ramp is still under the floor
  EXPECT_DOUBLE_EQ(slow_start_factor(up_since, 10s, clock.now()), 0.1);
}

TEST(SlowStart, RampsLinearly) {
  core::ManualClock clock;
  const auto up_since = clock.now();
  clock.advance(2500ms);
  EXPECT_DOUBLE_EQ(slow_start_factor(up_since, 10s, clock.now()), 0.25);
  clock.advance(2500ms);
  EXPECT_DOUBLE_EQ(slow_start_factor(up_since, 10s, clock.now()), 0.5);
  clock.advance(4000ms);
  EXPECT_DOUBLE_EQ(slow_start_factor(up_since, 10s, clock.now()), 0.9);
}

TEST(SlowStart, FullWeightAtAndAfterTheEnd) {
  core::ManualClock clock;
  const auto up_since = clock.now();
  clock.advance(10s);
  EXPECT_DOUBLE_EQ(slow_start_factor(up_since, 10s, clock.now()), 1.0);
  clock.advance(1h);
  EXPECT_DOUBLE_EQ(slow_start_factor(up_since, 10s, clock.now()), 1.0);
}

TEST(SlowStart, NeverDecreasesAsTimeGoesOn) {
  core::ManualClock clock;
  const auto up_since = clock.now();
  double previous = 0.0;
  for (int i = 0; i <= 120; ++i) {
    const double f = slow_start_factor(up_since, 10s, clock.now());
    EXPECT_GE(f, previous);
    EXPECT_GE(f, 0.1);
    EXPECT_LE(f, 1.0);
    previous = f;
    clock.advance(100ms);
  }
}

}  // namespace
}  // namespace failover::health
