// LogWriter on real threads and the faulty file system. Nothing sleeps:
// the test waits on a condition variable (bounded, so a bug fails instead
// of hanging) and holds the writer inside an fsync through the sync hook.
#include "store/log_writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "store_test_util.h"
#include "support/faulty_file_system.h"

namespace failover::store {
namespace {

using namespace std::chrono_literals;
using namespace testing;
using test::FaultyFileSystem;

const Path kDir = "data/log";
constexpr auto kBound = 10s;  // far above any real wait; only a bug reaches it

// What the callbacks saw, from the writer thread.
struct Seen {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<uint64_t> durable;
  std::vector<core::Result<std::vector<Entry>>> truncated;
  std::vector<core::Error> fatal;

  LogWriter::Callbacks callbacks() {
    return {
        .on_durable = [this](uint64_t seq) { note([&] { durable.push_back(seq); }); },
        .on_truncated = [this](core::Result<std::vector<Entry>> r) { note([&] { truncated.push_back(std::move(r)); }); },
        .on_fatal = [this](core::Error e) { note([&] { fatal.push_back(std::move(e)); }); },
    };
  }
  template <class F>
  void note(F f) {
    {
      std::lock_guard lock(mu);
      f();
    }
    changed.notify_all();
  }
  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, kBound, pred);
  }
};

Log open_log(FaultyFileSystem& fs, LogOptions options = kSmallSegments) {
  auto log = Log::open(fs, kDir, options);
  EXPECT_TRUE(log.ok());
  return std::move(*log);
}

TEST(LogWriter, ReportsEachSubmitDurable) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 1, 3)));
  ASSERT_TRUE(seen.wait([&] { return !seen.durable.empty() && seen.durable.back() == 3; }));
  fs.crash();  // what on_durable reported survives
  Log again = open_log(fs);
  EXPECT_EQ(all_entries(again), puts(1, 1, 3));
}

TEST(LogWriter, GroupsWhatArrivesDuringAnFsync) {
  FaultyFileSystem fs;
  Log log = open_log(fs, {});  // one segment: no fsync of a roll
  std::promise<void> in_first_sync;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> syncs{0};
  fs.set_sync_hook([&] {
    if (syncs++ == 0) {
      in_first_sync.set_value();
      released.wait_for(kBound);
    }
  });
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 1, 1)));
  ASSERT_EQ(in_first_sync.get_future().wait_for(kBound), std::future_status::ready);
  // The writer is inside the fsync of entry 1: these three queue up...
  ASSERT_TRUE(writer.submit(puts(1, 2, 2)));
  ASSERT_TRUE(writer.submit(puts(1, 3, 4)));
  ASSERT_TRUE(writer.submit(puts(1, 5, 5)));
  release.set_value();
  // ...and share the next fsync.
  ASSERT_TRUE(seen.wait([&] { return !seen.durable.empty() && seen.durable.back() == 5; }));
  EXPECT_EQ(seen.durable, (std::vector<uint64_t>{1, 5}));
  EXPECT_EQ(fs.file_syncs(), 2);
  EXPECT_EQ(writer.syncs(), 2u);  // what /status and /metrics report
  EXPECT_EQ(writer.synced_entries(), 5u);
  writer.stop();
  EXPECT_EQ(all_entries(log), puts(1, 1, 5));
}

TEST(LogWriter, TruncateRunsAfterThePendingAppends) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  {
    LogWriter writer(log, seen.callbacks());
    ASSERT_TRUE(writer.submit(puts(1, 1, 5)));
    ASSERT_TRUE(writer.truncate_after(3, "data/quarantine"));
    ASSERT_TRUE(writer.submit(puts(2, 4, 4)));
    writer.stop();  // drains
  }
  ASSERT_EQ(seen.truncated.size(), 1u);
  ASSERT_TRUE(seen.truncated[0].ok());
  EXPECT_EQ(*seen.truncated[0], puts(1, 4, 5));
  EXPECT_EQ(seen.durable.back(), 4u);
  std::vector<Entry> want = puts(1, 1, 3);
  want.push_back(put(2, 4));
  EXPECT_EQ(all_entries(log), want);
  EXPECT_TRUE(seen.fatal.empty());
}

TEST(LogWriter, RefusedTruncateIsReportedAndTheWriterGoesOn) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.reset(1, 10).ok());
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 11, 12)));
  ASSERT_TRUE(writer.truncate_after(5, "data/quarantine"));  // below the base
  ASSERT_TRUE(writer.submit(puts(1, 13, 13)));
  writer.stop();
  ASSERT_EQ(seen.truncated.size(), 1u);
  EXPECT_TRUE(seen.truncated[0].is(core::ErrorCode::kInvalid));
  EXPECT_TRUE(seen.fatal.empty());
  EXPECT_EQ(log.last_seq(), 13u);
}

TEST(LogWriter, ALogJobRunsAfterThePendingAppendsAndItsErrorIsFatal) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 1, 40)));
  std::atomic<uint64_t> last_seen_by_job{0};
  ASSERT_TRUE(writer.with_log([&](Log& l) -> core::Result<void> {
    last_seen_by_job = l.last_seq();
    return l.discard_before(30);
  }));
  ASSERT_TRUE(writer.with_log([](Log&) -> core::Result<void> { return core::Error::internal("disk gone"); }));
  ASSERT_TRUE(seen.wait([&] { return !seen.fatal.empty(); }));
  EXPECT_EQ(last_seen_by_job.load(), 40u);
  EXPECT_EQ(seen.fatal[0].message, "disk gone");
  EXPECT_FALSE(writer.submit(puts(1, 41, 41)));
  EXPECT_FALSE(writer.with_log([](Log&) { return core::ok(); }));
  writer.stop();
  EXPECT_GT(log.first_seq(), 1u);  // the discard ran (kSmallSegments: several segments)
}

TEST(LogWriter, AFailedFsyncIsFatalAndNeverRetried) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  fs.fail_next_sync(1);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 1, 2)));
  ASSERT_TRUE(seen.wait([&] { return !seen.fatal.empty(); }));
  EXPECT_TRUE(seen.durable.empty());  // nothing was reported durable
  EXPECT_FALSE(writer.submit(puts(1, 3, 3)));
  EXPECT_FALSE(writer.truncate_after(0, "data/quarantine"));
  writer.stop();
  EXPECT_EQ(seen.fatal.size(), 1u);
  fs.crash();
  EXPECT_TRUE(all_entries(open_log(fs)).empty());
}

TEST(LogWriter, AFullDiskIsFatalAndSaysSo) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  fs.set_capacity(20);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 1, 1)));
  ASSERT_TRUE(seen.wait([&] { return !seen.fatal.empty(); }));
  EXPECT_TRUE(is_disk_full(seen.fatal[0])) << seen.fatal[0].to_string();
}

TEST(LogWriter, AnOutOfOrderSubmitIsFatal) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 2, 2)));
  ASSERT_TRUE(seen.wait([&] { return !seen.fatal.empty(); }));
  EXPECT_EQ(seen.fatal[0].code, core::ErrorCode::kInvalid);
}

TEST(LogWriter, StopDrainsEverythingQueued) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  for (uint64_t seq = 1; seq <= 100; ++seq) ASSERT_TRUE(writer.submit(puts(1, seq, seq)));
  writer.stop();
  writer.stop();  // idempotent
  EXPECT_EQ(seen.durable.back(), 100u);
  EXPECT_FALSE(writer.submit(puts(1, 101, 101)));
  fs.crash();
  EXPECT_EQ(all_entries(open_log(fs)), puts(1, 1, 100));
}

TEST(LogWriter, SubmitsFromManyThreadsKeepTheirOrder) {
  // Each thread owns a range of keys; seqs are given out under one lock, as
  // the primary does, and the log must hold them all in seq order.
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  std::mutex order;
  uint64_t next = 1;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        std::lock_guard lock(order);
        EXPECT_TRUE(writer.submit(puts(1, next, next)));
        ++next;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(seen.wait([&] { return !seen.durable.empty() && seen.durable.back() == 200; }));
  for (size_t i = 1; i < seen.durable.size(); ++i) EXPECT_LT(seen.durable[i - 1], seen.durable[i]);
  writer.stop();
  EXPECT_EQ(all_entries(log), puts(1, 1, 200));
}

TEST(LogWriter, ReadersOnAnotherThreadSeeAConsistentPrefix) {
  // log.h: reads may come from any thread while the writer appends.
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      const uint64_t last = log.last_seq();
      auto read = log.read(1, UINT64_MAX);
      ASSERT_TRUE(read.ok());
      ASSERT_GE(read->size(), last);  // never less than last_seq said a moment ago
      for (size_t i = 0; i < read->size(); ++i) ASSERT_EQ((*read)[i], put(1, i + 1));
    }
  });
  for (uint64_t seq = 1; seq <= 300; ++seq) ASSERT_TRUE(writer.submit(puts(1, seq, seq)));
  ASSERT_TRUE(seen.wait([&] { return !seen.durable.empty() && seen.durable.back() == 300; }));
  done = true;
  reader.join();
  writer.stop();
  EXPECT_EQ(all_entries(log), puts(1, 1, 300));
}

TEST(LogWriter, ATruncateThatFailsOnTheDiskIsReportedThenFatal) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Seen seen;
  LogWriter writer(log, seen.callbacks());
  ASSERT_TRUE(writer.submit(puts(1, 1, 5)));
  ASSERT_TRUE(seen.wait([&] { return !seen.durable.empty() && seen.durable.back() == 5; }));
  fs.fail_next_sync(1);  // the quarantine file's fsync
  ASSERT_TRUE(writer.truncate_after(2, "data/quarantine"));
  ASSERT_TRUE(seen.wait([&] { return !seen.fatal.empty(); }));
  ASSERT_EQ(seen.truncated.size(), 1u);
  EXPECT_FALSE(seen.truncated[0].ok());
  EXPECT_FALSE(writer.submit(puts(1, 6, 6)));
  EXPECT_EQ(log.last_seq(), 5u);  // the log was not cut without its quarantine
}

}  // namespace
}  // namespace failover::store
