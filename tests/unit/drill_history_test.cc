#include "drill/history.h"

#include <gtest/gtest.h>

#include <random>

namespace failover::drill {
namespace {

using Kind = Operation::Kind;
using Outcome = Operation::Outcome;
using VKind = Violation::Kind;

const core::TimePoint t0 = core::TimePoint(std::chrono::hours(1));

Operation op(Kind kind, std::optional<std::string> value, int start_ms, int end_ms, Outcome outcome = Outcome::kOk,
             std::string key = "k") {
  Operation o;
  o.kind = kind;
  o.key = std::move(key);
  o.value = std::move(value);
  o.start = t0 + std::chrono::milliseconds(start_ms);
  o.end = t0 + std::chrono::milliseconds(end_ms);
  o.outcome = outcome;
  return o;
}
Operation write(std::string v, int s, int e, Outcome o = Outcome::kOk) { return op(Kind::kWrite, std::move(v), s, e, o); }
Operation read(std::optional<std::string> v, int s, int e) { return op(Kind::kRead, std::move(v), s, e); }

std::vector<VKind> kinds(const std::vector<Operation>& h) {
  std::vector<VKind> out;
  for (const Violation& v : check_history(h)) out.push_back(v.kind);
  return out;
}

TEST(DrillHistory, ASequentialRegisterIsLinearizable) {
  EXPECT_TRUE(kinds({read(std::nullopt, 0, 1), write("v1", 2, 10), read("v1", 20, 30), write("v2", 40, 50),
                     read("v2", 60, 70)})
                  .empty());
}

TEST(DrillHistory, AReadConcurrentWithAWriteMayReturnTheOldOrTheNewValue) {
  EXPECT_TRUE(kinds({write("v1", 0, 10), write("v2", 20, 40), read("v1", 30, 35)}).empty());
  EXPECT_TRUE(kinds({write("v1", 0, 10), write("v2", 20, 40), read("v2", 25, 30)}).empty());
  // A read may even see a write that ends after it, as long as it had begun.
  EXPECT_TRUE(kinds({write("v1", 0, 50), read("v1", 10, 20)}).empty());
}

TEST(DrillHistory, AValueOverwrittenBeforeTheReadBeganIsAStaleRead) {
  EXPECT_EQ(kinds({write("v1", 0, 10), write("v2", 20, 30), read("v1", 40, 50)}),
            std::vector<VKind>{VKind::kStaleRead});
}

TEST(DrillHistory, NewThenOldDuringOneWriteIsAStaleRead) {
  // Two reads in a row during a write: the first saw the new value, so the
  // second may not see the old one.
  EXPECT_EQ(kinds({write("v1", 0, 10), write("v2", 20, 40), read("v2", 22, 24), read("v1", 26, 28)}),
            std::vector<VKind>{VKind::kStaleRead});
}

TEST(DrillHistory, AnAcknowledgedWriteMissingAtTheEndIsCaught) {
  // The final read is a read like any other.
  EXPECT_EQ(kinds({write("v1", 0, 10), read(std::nullopt, 100, 110)}), std::vector<VKind>{VKind::kStaleRead});
  EXPECT_EQ(kinds({write("v1", 0, 10), write("v2", 20, 30), read("v1", 100, 110)}),
            std::vector<VKind>{VKind::kStaleRead});
}

TEST(DrillHistory, AWriteOfUnknownOutcomeCountsOnlyOnceItWasRead) {
  // Not read: it may never have happened.
  EXPECT_TRUE(kinds({write("v1", 0, 10), write("v2", 20, 30, Outcome::kUnknown), read("v1", 40, 50)}).empty());
  // Read once: it happened, and the older value may not come back.
  EXPECT_EQ(kinds({write("v1", 0, 10), write("v2", 20, 30, Outcome::kUnknown), read("v2", 40, 50),
                   read("v1", 60, 70)}),
            std::vector<VKind>{VKind::kStaleRead});
}

TEST(DrillHistory, ValuesNoWriteWroteAreCaught) {
  EXPECT_EQ(kinds({write("v1", 0, 10, Outcome::kFailed), read("v1", 20, 30)}),
            std::vector<VKind>{VKind::kUnknownValue});
  EXPECT_EQ(kinds({read("ghost", 20, 30)}), std::vector<VKind>{VKind::kUnknownValue});
  EXPECT_EQ(kinds({read("v1", 0, 5), write("v1", 10, 20)}), std::vector<VKind>{VKind::kReadBeforeWrite});
}

TEST(DrillHistory, FailedReadsAndOtherKeysDoNotCount) {
  Operation failed = read("v1", 40, 50);
  failed.outcome = Outcome::kFailed;
  Operation other = op(Kind::kWrite, "v9", 20, 30, Outcome::kOk, "other");
  EXPECT_TRUE(kinds({write("v1", 0, 10), write("v2", 15, 18), other, failed}).empty());
}

TEST(DrillHistory, TheMessageSaysWhichValuesAndWhen) {
  auto v = check_history({write("v1", 0, 10), write("v2", 20, 30), read("v1", 40, 50)});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].key, "k");
  EXPECT_NE(v[0].what.find("'v1'"), std::string::npos) << v[0].what;
  EXPECT_NE(v[0].what.find("'v2'"), std::string::npos) << v[0].what;
  EXPECT_NE(v[0].what.find("read at 40ms"), std::string::npos) << v[0].what;
  EXPECT_STREQ(violation_name(v[0].kind), "stale_read");
}

// Histories made by a real register: each operation takes effect at one
// instant inside its interval, reads return the value current then. Every
// one must pass; moving one read to a value overwritten before it began
// must not.
TEST(DrillHistory, RandomHistoriesOfARealRegisterPassAndAStaleReadInThemIsFound) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<Operation> h;
    std::optional<std::string> current;
    std::vector<std::pair<std::string, int>> overwritten;  // value, when it stopped being current
    int t = 0, n = 0;
    for (int i = 0; i < 60; ++i) {
      t += 1 + static_cast<int>(rng() % 5);  // the linearization point
      const int start = t - static_cast<int>(rng() % 20), end = t + static_cast<int>(rng() % 20);
      if (rng() % 3 == 0) {
        std::string v = "v" + std::to_string(++n);
        if (current) overwritten.emplace_back(*current, t);
        h.push_back(write(v, start, end));
        current = v;
      } else {
        h.push_back(read(current, start, end));
      }
    }
    EXPECT_TRUE(check_history(h).empty()) << "seed " << seed << ": " << check_history(h)[0].what;
    if (overwritten.empty()) continue;
    // A read that begins after a value was overwritten, and returns it.
    const auto& [old, gone_at] = overwritten.front();
    h.push_back(read(old, t + 100, t + 110));
    EXPECT_FALSE(check_history(h).empty()) << "seed " << seed;
  }
}

}  // namespace
}  // namespace failover::drill
