#include "health/passive.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace failover::health {
namespace {

using namespace std::chrono_literals;

PassiveConfig config(int max_fails, std::chrono::milliseconds fail_timeout,
                     std::chrono::milliseconds max_ejection = 300s) {
  return PassiveConfig{.max_fails = max_fails, .fail_timeout = fail_timeout,
                       .max_ejection = max_ejection};
}

// Fails the server max_fails times at the current time; returns whether the
// last failure ejected it.
bool fail_hard(PassiveEjector& e, const core::ManualClock& clock) {
  bool ejected = false;
  for (int i = 0; i < e.config().max_fails; ++i) ejected = e.on_failure(clock.now());
  return ejected;
}

TEST(PassiveEjector, EjectsAtMaxFailsWithinTheWindow) {
  core::ManualClock clock;
  PassiveEjector e(config(3, 10s));
  EXPECT_FALSE(e.on_failure(clock.now()));
  clock.advance(4s);
  EXPECT_FALSE(e.on_failure(clock.now()));
  EXPECT_EQ(e.recent_failures(clock.now()), 2);
  clock.advance(5s);
  EXPECT_TRUE(e.on_failure(clock.now()));
  EXPECT_TRUE(e.ejected(clock.now()));
  EXPECT_EQ(e.ejections(), 1);
}

TEST(PassiveEjector, SingleFailureEjectsWithMaxFailsOne) {
  core::ManualClock clock;
  PassiveEjector e(config(1, 10s));
  EXPECT_TRUE(e.on_failure(clock.now()));
  EXPECT_EQ(e.ejected_until(), clock.now() + 10s);
}

TEST(PassiveEjector, FailuresSpreadWiderThanFailTimeoutDoNotEject) {
  core::ManualClock clock;
  PassiveEjector e(config(2, 10s));
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(e.on_failure(clock.now()));
    clock.advance(10s);  // the previous failure leaves the window exactly now
  }
  EXPECT_EQ(e.ejections(), 0);
  EXPECT_EQ(e.recent_failures(clock.now()), 0);
}

TEST(PassiveEjector, EjectionEndsAfterFailTimeout) {
  core::ManualClock clock;
  PassiveEjector e(config(1, 10s));
  ASSERT_TRUE(e.on_failure(clock.now()));
  clock.advance(9999ms);
  EXPECT_TRUE(e.ejected(clock.now()));
  clock.advance(1ms);
  EXPECT_FALSE(e.ejected(clock.now()));
}

TEST(PassiveEjector, FailuresWhileEjectedAreIgnored) {
  core::ManualClock clock;
  PassiveEjector e(config(2, 10s));
  ASSERT_TRUE(fail_hard(e, clock));
  const auto until = e.ejected_until();
  clock.advance(5s);
  EXPECT_FALSE(e.on_failure(clock.now()));
  EXPECT_FALSE(e.on_failure(clock.now()));
  EXPECT_EQ(e.ejected_until(), until);
  EXPECT_EQ(e.ejections(), 1);
  // Back in: it needs max_fails fresh failures again.
  clock.advance(5s);
  EXPECT_FALSE(e.on_failure(clock.now()));
  EXPECT_TRUE(e.on_failure(clock.now()));
}

TEST(PassiveEjector, EjectionDoublesOnQuickReEjection) {
  core::ManualClock clock;
  PassiveEjector e(config(1, 10s));
  ASSERT_TRUE(e.on_failure(clock.now()));
  EXPECT_EQ(e.ejected_until() - clock.now(), 10s);
  clock.advance(10s + 19s);  // back for 19 s < 2 x 10 s
  ASSERT_TRUE(e.on_failure(clock.now()));
  EXPECT_EQ(e.level(clock.now()), 1);
  EXPECT_EQ(e.ejected_until() - clock.now(), 20s);
  clock.advance(20s + 1s);
  ASSERT_TRUE(e.on_failure(clock.now()));
  EXPECT_EQ(e.level(clock.now()), 2);
  EXPECT_EQ(e.ejected_until() - clock.now(), 40s);
}

TEST(PassiveEjector, LevelResetsAfterStayingHealthy) {
  core::ManualClock clock;
  PassiveEjector e(config(1, 10s));
  ASSERT_TRUE(e.on_failure(clock.now()));
  clock.advance(10s + 1s);
  ASSERT_TRUE(e.on_failure(clock.now()));
  ASSERT_EQ(e.ejected_until() - clock.now(), 20s);
  // Healthy for exactly twice the last ejection (40 s) after it returned.
  clock.advance(20s + 39s);
  EXPECT_EQ(e.level(clock.now()), 1);
  clock.advance(1s);
  EXPECT_EQ(e.level(clock.now()), 0);
  ASSERT_TRUE(e.on_failure(clock.now()));
  EXPECT_EQ(e.level(clock.now()), 0);
  EXPECT_EQ(e.ejected_until() - clock.now(), 10s);
}

TEST(PassiveEjector, EjectionIsCappedAtMaxEjection) {
  core::ManualClock clock;
  PassiveEjector e(config(1, 10s, 60s));
  std::chrono::milliseconds last{0};
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(e.on_failure(clock.now()));
    last = std::chrono::duration_cast<std::chrono::milliseconds>(e.ejected_until() - clock.now());
    EXPECT_LE(last, 60s);
    clock.advance(e.ejected_until() - clock.now() + 1s);
  }
  EXPECT_EQ(last, 60s);
  // The level stops growing at the cap, so one quiet period forgives it all.
  clock.advance(2 * 60s);
  EXPECT_EQ(e.level(clock.now()), 0);
  ASSERT_TRUE(e.on_failure(clock.now()));
  EXPECT_EQ(e.ejected_until() - clock.now(), 10s);
}

TEST(PassiveEjector, MaxFailsZeroNeverEjects) {
  core::ManualClock clock;
  PassiveEjector e(config(0, 10s));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(e.on_failure(clock.now()));
  EXPECT_FALSE(e.ejected(clock.now()));
  EXPECT_EQ(e.ejections(), 0);
}

TEST(PassiveEjector, LoweredMaxFailsTakesEffect) {
  core::ManualClock clock;
  PassiveEjector e(config(5, 10s));
  EXPECT_FALSE(e.on_failure(clock.now()));
  EXPECT_FALSE(e.on_failure(clock.now()));
  e.set_config(config(2, 10s));
  EXPECT_TRUE(e.on_failure(clock.now()));
}

}  // namespace
}  // namespace failover::health
