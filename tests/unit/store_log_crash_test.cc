// The log under a crash at every point of every writing call, after
// LevelDB's fault_injection_test: die_after(n) stops the "process" after n
// file-system calls, crash() drops what was not durable, and the reopened
// log must hold every entry that was synced, with no damage reported.
#include <gtest/gtest.h>

#include "store/log.h"
#include "store_test_util.h"
#include "support/faulty_file_system.h"

namespace failover::store {
namespace {

using namespace testing;
using test::FaultyFileSystem;

const Path kDir = "data/log";
const Path kQuarantine = "data/quarantine";

// A log with entries 1..10 synced (epoch 1 to 5, epoch 2 after) over
// several segments.
FaultyFileSystem& with_ten(FaultyFileSystem& fs) {
  auto log = Log::open(fs, kDir, kSmallSegments);
  EXPECT_TRUE(log.ok());
  EXPECT_TRUE(log->append(puts(1, 1, 5)).ok());
  EXPECT_TRUE(log->append(puts(2, 6, 10)).ok());
  EXPECT_TRUE(log->sync().ok());
  return fs;
}

std::vector<Entry> ten() {
  std::vector<Entry> out = puts(1, 1, 5);
  for (const Entry& e : puts(2, 6, 10)) out.push_back(e);
  return out;
}

Log reopen(FaultyFileSystem& fs) {
  auto log = Log::open(fs, kDir, kSmallSegments);
  EXPECT_TRUE(log.ok()) << log.error().to_string();
  return std::move(*log);
}

// Runs `step` against a fresh log, dying after n calls for n = 0, 1, ...
// until it completes, and hands each recovered log to `check` along with
// whether the step had finished.
template <class Step, class Check>
void at_every_point(Step step, Check check, bool tear = false) {
  for (int n = 0; n < 200; ++n) {
    SCOPED_TRACE("died after " + std::to_string(n) + " calls" + (tear ? ", torn" : ""));
    FaultyFileSystem fs(static_cast<uint32_t>(n + 1));
    with_ten(fs);
    bool done = false;
    {
      auto log = Log::open(fs, kDir, kSmallSegments);
      ASSERT_TRUE(log.ok());
      fs.die_after(n);
      done = step(*log);
    }
    fs.crash(tear);
    Log log = reopen(fs);
    EXPECT_FALSE(log.damaged_from());
    check(log, fs, done);
    if (done) {
      EXPECT_GE(n, 4) << "too few points to crash at: is die_after counting?";
      return;
    }
  }
  FAIL() << "the step never completed";
}

TEST(StoreLogCrash, AppendAndSyncAtEveryPoint) {
  for (bool tear : {false, true}) {
    at_every_point(
        [](Log& log) { return log.append(puts(2, 11, 20)).ok() && log.sync().ok(); },
        [](Log& log, FaultyFileSystem&, bool done) {
          std::vector<Entry> want = ten();
          for (const Entry& e : puts(2, 11, 20)) want.push_back(e);
          if (done) EXPECT_EQ(log.last_seq(), 20u);
          ASSERT_GE(log.last_seq(), 10u);  // every synced entry is there
          want.resize(log.last_seq());
          EXPECT_EQ(all_entries(log), want);  // and nothing but a prefix of what was written
          // The recovered log takes appends again.
          EXPECT_TRUE(log.append(puts(3, log.last_seq() + 1, log.last_seq() + 1)).ok());
          EXPECT_TRUE(log.sync().ok());
        },
        tear);
  }
}

TEST(StoreLogCrash, TruncateAtEveryPointNeverCutsWithoutAQuarantine) {
  at_every_point(
      [](Log& log) { return log.truncate_after(3, kQuarantine).ok(); },
      [](Log& log, FaultyFileSystem& fs, bool done) {
        if (done) EXPECT_EQ(log.last_seq(), 3u);
        ASSERT_GE(log.last_seq(), 3u);
        std::vector<Entry> want = ten();
        want.resize(log.last_seq());
        EXPECT_EQ(all_entries(log), want);
        if (log.last_seq() < 10) {
          // Something was cut: all of it is in the quarantine, durably.
          const std::string lines = fs.contents(kQuarantine / "000001.jsonl");
          EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 7);
        }
        // A retry finishes the job from whatever was left.
        auto again = log.truncate_after(3, kQuarantine);
        ASSERT_TRUE(again.ok()) << again.error().to_string();
        EXPECT_EQ(all_entries(log), puts(1, 1, 3));
        EXPECT_EQ(log.epochs().last_epoch(), 1u);
      });
}

TEST(StoreLogCrash, ResetAtEveryPointIsAllOrNothing) {
  at_every_point(
      [](Log& log) { return log.reset(7, 100).ok(); },
      [](Log& log, FaultyFileSystem&, bool done) {
        if (log.first_seq() == 1) {
          EXPECT_FALSE(done);
          EXPECT_EQ(all_entries(log), ten());  // not begun: the old log whole
        } else {
          EXPECT_EQ(log.first_seq(), 101u);  // begun: finished by open()
          EXPECT_EQ(log.last_seq(), 100u);
          EXPECT_EQ(log.last_epoch(), 7u);
          EXPECT_TRUE(all_entries(log).empty());
        }
        if (done) EXPECT_EQ(log.first_seq(), 101u);
      });
}

TEST(StoreLogCrash, DiscardAtEveryPointKeepsWhatIsAbove) {
  at_every_point(
      [](Log& log) { return log.discard_before(9).ok(); },
      [](Log& log, FaultyFileSystem&, bool done) {
        EXPECT_EQ(log.last_seq(), 10u);
        EXPECT_LE(log.first_seq(), 9u);
        std::vector<Entry> want = ten();
        want.erase(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(log.first_seq() - 1));
        EXPECT_EQ(all_entries(log), want);
        const std::vector<EpochHistory::Start> epochs = {{1, 1}, {2, 6}};
        EXPECT_EQ(log.epochs().starts(), epochs);
        if (done) EXPECT_GT(log.first_seq(), 1u);
      });
}

TEST(StoreLogCrash, RecoveryItselfCanCrash) {
  // A torn tail is cut by open(); dying inside that open and opening again
  // still gives the synced entries.
  for (int n = 0; n < 20; ++n) {
    FaultyFileSystem fs(static_cast<uint32_t>(n + 1));
    with_ten(fs);
    {
      Log log = reopen(fs);
      ASSERT_TRUE(log.append(puts(2, 11, 14)).ok());
    }
    fs.crash(/*tear=*/true);
    fs.die_after(n);
    (void)Log::open(fs, kDir, kSmallSegments);
    fs.crash();
    Log log = reopen(fs);
    ASSERT_GE(log.last_seq(), 10u);
    EXPECT_FALSE(log.damaged_from());
  }
}

}  // namespace
}  // namespace failover::store
