#include "health/rise_fall.h"

#include <gtest/gtest.h>

namespace failover::health {
namespace {

TEST(RiseFall, GoesDownAfterExactlyFallFailures) {
  RiseFall rf(/*rise=*/2, /*fall=*/3, /*up=*/true);
  EXPECT_EQ(rf.observe(false), Change::kPending);
  EXPECT_EQ(rf.observe(false), Change::kPending);
  EXPECT_TRUE(rf.up());
  EXPECT_EQ(rf.observe(false), Change::kDown);
  EXPECT_FALSE(rf.up());
}

TEST(RiseFall, ComesUpAfterExactlyRiseSuccesses) {
  RiseFall rf(/*rise=*/3, /*fall=*/2, /*up=*/false);
  EXPECT_EQ(rf.observe(true), Change::kPending);
  EXPECT_EQ(rf.observe(true), Change::kPending);
  EXPECT_FALSE(rf.up());
  EXPECT_EQ(rf.observe(true), Change::kUp);
  EXPECT_TRUE(rf.up());
}

TEST(RiseFall, ResultsAgreeingWithStateChangeNothing) {
  RiseFall up(2, 2, true);
  RiseFall down(2, 2, false);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(up.observe(true), Change::kNone);
    EXPECT_EQ(down.observe(false), Change::kNone);
  }
  EXPECT_TRUE(up.up());
  EXPECT_FALSE(down.up());
}

TEST(RiseFall, SuccessResetsFailureStreak) {
  RiseFall rf(2, 3, true);
  rf.observe(false);
  rf.observe(false);
  EXPECT_EQ(rf.observe(true), Change::kNone);
  // The streak starts over: two more failures are not enough.
  EXPECT_EQ(rf.observe(false), Change::kPending);
  EXPECT_EQ(rf.observe(false), Change::kPending);
  EXPECT_TRUE(rf.up());
  EXPECT_EQ(rf.observe(false), Change::kDown);
}

TEST(RiseFall, FailureResetsSuccessStreakWhileDown) {
  RiseFall rf(3, 2, false);
  rf.observe(true);
  rf.observe(true);
  EXPECT_EQ(rf.observe(false), Change::kNone);
  EXPECT_EQ(rf.observe(true), Change::kPending);
  EXPECT_EQ(rf.observe(true), Change::kPending);
  EXPECT_EQ(rf.observe(true), Change::kUp);
}

TEST(RiseFall, RiseAndFallOfOneSwitchAtOnce) {
  RiseFall rf(1, 1, true);
  EXPECT_EQ(rf.observe(false), Change::kDown);
  EXPECT_EQ(rf.observe(true), Change::kUp);
}

TEST(RiseFall, CountsConsecutiveResultsWhateverTheState) {
  RiseFall rf(2, 5, true);
  rf.observe(true);
  rf.observe(true);
  EXPECT_EQ(rf.consecutive_successes(), 2);
  EXPECT_EQ(rf.consecutive_failures(), 0);
  rf.observe(false);
  EXPECT_EQ(rf.consecutive_successes(), 0);
  EXPECT_EQ(rf.consecutive_failures(), 1);
}

TEST(RiseFall, ForceSetsStateAndClearsStreak) {
  RiseFall rf(2, 2, true);
  rf.observe(false);
  rf.force(true);
  EXPECT_EQ(rf.observe(false), Change::kPending);  // the earlier failure no longer counts
  rf.force(false);
  EXPECT_FALSE(rf.up());
  EXPECT_EQ(rf.observe(true), Change::kPending);
  EXPECT_EQ(rf.observe(true), Change::kUp);
}

TEST(RiseFall, NewThresholdsApplyToTheRunningStreak) {
  RiseFall rf(2, 5, true);
  rf.observe(false);
  rf.observe(false);
  rf.set_thresholds(2, 3);
  EXPECT_EQ(rf.observe(false), Change::kDown);
  EXPECT_EQ(rf.fall(), 3);
}

}  // namespace
}  // namespace failover::health
