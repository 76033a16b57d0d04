#include "core/clock.h"
#include "registry/timer_wheel.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace failover::registry {
namespace {

using namespace std::chrono_literals;

constexpr core::Duration kTick = 10ms;

// Drives a wheel with a manual clock and records when each key fired.
struct Harness {
  core::ManualClock clock;
  TimerWheel wheel;
  std::map<TimerWheel::Key, std::vector<core::TimePoint>> fired;

  explicit Harness(std::size_t slots = 64) : wheel(clock.now(), kTick, slots) {}

  core::TimePoint at(core::TimePoint::duration from_start) const { return start + from_start; }
  void step(core::TimePoint::duration d) {
    clock.advance(d);
    wheel.advance(clock.now(), [&](TimerWheel::Key k) { fired[k].push_back(clock.now()); });
  }

  const core::TimePoint start = clock.now();
};

TEST(TimerWheel, FiresNeverEarlyAndAtMostOneTickLate) {
  Harness h;
  std::map<TimerWheel::Key, core::TimePoint> deadline;
  // Deadlines on, just after and just before tick boundaries, 1 ms apart.
  for (int i = 0; i < 100; ++i) {
    const std::chrono::nanoseconds nudge(i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : -1);
    deadline[i] = h.at(std::chrono::milliseconds(i) + nudge);
    h.wheel.schedule(i, deadline[i]);
  }
  for (int ms = 0; ms < 150; ++ms) h.step(1ms);
  for (const auto& [key, when] : deadline) {
    ASSERT_EQ(h.fired[key].size(), 1u) << key;
    EXPECT_GE(h.fired[key][0], when) << key;
    EXPECT_LE(h.fired[key][0] - when, kTick) << key;
  }
  EXPECT_EQ(h.wheel.size(), 0u);
}

TEST(TimerWheel, DeadlineOnATickBoundaryFiresExactlyThen) {
  Harness h;
  h.wheel.schedule(1, h.at(30ms));
  h.step(29ms);
  EXPECT_TRUE(h.fired.empty());
  h.step(1ms);
  EXPECT_EQ(h.fired[1].size(), 1u);
}

TEST(TimerWheel, PastDeadlineFiresAtTheNextTick) {
  Harness h;
  h.step(25ms);
  h.wheel.schedule(1, h.at(5ms));
  h.step(4ms);  // 29 ms: tick 3 has not begun
  EXPECT_TRUE(h.fired.empty());
  h.step(1ms);
  EXPECT_EQ(h.fired[1].size(), 1u);
}

TEST(TimerWheel, FarDeadlinesWaitTheirTurn) {
  Harness h(/*slots=*/8);  // one turn is 80 ms
  h.wheel.schedule(1, h.at(1005ms));  // 12 turns and a bit
  h.wheel.schedule(2, h.at(85ms));    // just over one turn, same bucket as 5 ms
  h.wheel.schedule(3, h.at(5ms));
  while (h.clock.now() < h.at(1004ms)) {
    h.step(1ms);
    EXPECT_TRUE(h.fired[1].empty()) << "early at " << core::millis_between(h.start, h.clock.now());
  }
  for (int i = 0; i < 20; ++i) h.step(1ms);
  ASSERT_EQ(h.fired[1].size(), 1u);
  EXPECT_GE(h.fired[1][0], h.at(1005ms));
  EXPECT_LE(h.fired[1][0], h.at(1015ms));
  ASSERT_EQ(h.fired[2].size(), 1u);
  EXPECT_EQ(h.fired[2][0], h.at(90ms));
  ASSERT_EQ(h.fired[3].size(), 1u);
  EXPECT_EQ(h.fired[3][0], h.at(10ms));
}

TEST(TimerWheel, StalledCallerGetsEverythingDueInOneCall) {
  Harness h(/*slots=*/8);
  for (int i = 1; i <= 50; ++i) h.wheel.schedule(i, h.at(std::chrono::milliseconds(i * 37)));
  h.step(1000ms);  // many turns at once: keys up to 27 (999 ms) are due
  for (int i = 1; i <= 50; ++i) {
    EXPECT_EQ(h.fired[i].size(), i * 37 <= 1000 ? 1u : 0u) << i;
  }
  for (int i = 0; i < 100; ++i) h.step(10ms);
  for (int i = 1; i <= 50; ++i) {
    ASSERT_EQ(h.fired[i].size(), 1u) << i;
    EXPECT_GE(h.fired[i][0], h.at(std::chrono::milliseconds(i * 37)));
  }
}

TEST(TimerWheel, CancelledEntryNeverFires) {
  Harness h;
  auto a = h.wheel.schedule(1, h.at(20ms));
  h.wheel.schedule(2, h.at(20ms));
  EXPECT_TRUE(h.wheel.cancel(a));
  EXPECT_FALSE(h.wheel.cancel(a));
  EXPECT_EQ(h.wheel.size(), 1u);
  h.step(50ms);
  EXPECT_TRUE(h.fired[1].empty());
  EXPECT_EQ(h.fired[2].size(), 1u);
}

TEST(TimerWheel, StaleHandleCancelsNothingElse) {
  Harness h;
  auto a = h.wheel.schedule(1, h.at(10ms));
  h.step(10ms);
  ASSERT_EQ(h.fired[1].size(), 1u);
  auto b = h.wheel.schedule(2, h.at(30ms));  // reuses a's slot in the pool
  EXPECT_NE(a, b);
  EXPECT_FALSE(h.wheel.cancel(a));
  EXPECT_FALSE(h.wheel.cancel(TimerWheel::kNoHandle));
  h.step(30ms);
  EXPECT_EQ(h.fired[2].size(), 1u);
}

TEST(TimerWheel, CallbackMayCancelAnEntryDueInTheSameTick) {
  Harness h;
  // Whichever fires first cancels the other, although both are due now.
  TimerWheel::Handle handle[2];
  handle[0] = h.wheel.schedule(0, h.at(10ms));
  handle[1] = h.wheel.schedule(1, h.at(10ms));
  int fired = 0;
  h.clock.advance(10ms);
  h.wheel.advance(h.clock.now(), [&](TimerWheel::Key k) {
    ++fired;
    EXPECT_TRUE(h.wheel.cancel(handle[1 - k]));
  });
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(h.wheel.size(), 0u);
}

TEST(TimerWheel, CallbackMayRescheduleItsOwnKey) {
  Harness h;
  h.wheel.schedule(1, h.at(10ms));
  std::vector<core::TimePoint> fired;
  for (int i = 0; i < 200; ++i) {
    h.clock.advance(1ms);
    h.wheel.advance(h.clock.now(), [&](TimerWheel::Key k) {
      fired.push_back(h.clock.now());
      if (fired.size() < 4) h.wheel.schedule(k, h.clock.now() + 25ms);
    });
  }
  ASSERT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired[1], h.at(40ms));  // 10 + 25 = 35, at the 40 ms boundary
  EXPECT_EQ(fired[3], h.at(100ms));
  EXPECT_EQ(h.wheel.size(), 0u);
}

TEST(TimerWheel, ManyEntriesEachFireOnceNeverEarlyNeverATickLate) {
  Harness h(/*slots=*/256);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> delay_us(0, 5'000'000);  // up to 5 s: many turns
  std::vector<core::TimePoint> deadline(20'000);
  std::vector<TimerWheel::Handle> handle(deadline.size());
  for (std::size_t k = 0; k < deadline.size(); ++k) {
    deadline[k] = h.at(std::chrono::microseconds(delay_us(rng)));
    handle[k] = h.wheel.schedule(k, deadline[k]);
  }
  for (std::size_t k = 0; k < deadline.size(); k += 10) h.wheel.cancel(handle[k]);
  EXPECT_EQ(h.wheel.size(), deadline.size() - deadline.size() / 10);

  std::uniform_int_distribution<int> step_us(1, 10'000);  // at most one tick per call
  std::vector<core::TimePoint> fired_at(deadline.size());
  std::vector<int> count(deadline.size());
  core::TimePoint previous = h.clock.now();
  while (h.clock.now() < h.at(5100ms)) {
    h.clock.advance(std::chrono::microseconds(step_us(rng)));
    h.wheel.advance(h.clock.now(), [&](TimerWheel::Key k) {
      ++count[k];
      fired_at[k] = h.clock.now();
      // Not fired by the previous call although a whole tick had passed?
      EXPECT_LT(previous, deadline[k] + kTick) << k;
    });
    previous = h.clock.now();
  }
  for (std::size_t k = 0; k < deadline.size(); ++k) {
    ASSERT_EQ(count[k], k % 10 == 0 ? 0 : 1) << k;
    if (count[k] == 1) {
      EXPECT_GE(fired_at[k], deadline[k]) << k;
    }
  }
  EXPECT_EQ(h.wheel.size(), 0u);
}

TEST(TimerWheel, ReusesItsPoolInsteadOfGrowing) {
  Harness h;
  for (int i = 0; i < 1000; ++i) {
    auto a = h.wheel.schedule(1, h.clock.now() + 100ms);
    h.wheel.schedule(2, h.clock.now() + 5ms);
    h.wheel.cancel(a);
    h.step(10ms);
  }
  EXPECT_EQ(h.wheel.size(), 0u);
  EXPECT_EQ(h.wheel.schedules(), 2000u);
  EXPECT_EQ(h.wheel.pool_size(), 2u);
}

}  // namespace
}  // namespace failover::registry
