#include "store/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "store/entry.h"
#include "store_test_util.h"
#include "support/faulty_file_system.h"

namespace failover::store {
namespace {

using namespace testing;
using test::FaultyFileSystem;

const Path kDir = "data/log";
const Path kQuarantine = "data/quarantine";
const uint64_t kReserve = LogOptions{}.reserve_ahead;

Log open_log(FaultyFileSystem& fs, LogOptions options = kSmallSegments) {
  auto log = Log::open(fs, kDir, options);
  EXPECT_TRUE(log.ok()) << log.error().to_string();
  return std::move(*log);
}

// The bytes of the frames of `entries`.
uint64_t frames_bytes(const std::vector<Entry>& entries) {
  uint64_t bytes = 0;
  for (const Entry& e : entries) bytes += encoded_size(e);
  return bytes;
}

std::vector<std::string> segment_files(FaultyFileSystem& fs) {
  std::vector<std::string> out;
  for (const std::string& name : fs.list_dir(kDir).value_or({})) {
    if (name.ends_with(".log")) out.push_back(name);
  }
  return out;
}

TEST(StoreLog, NewLogIsEmpty) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  EXPECT_EQ(log.first_seq(), 1u);
  EXPECT_EQ(log.last_seq(), 0u);
  EXPECT_EQ(log.last_epoch(), 0u);
  EXPECT_TRUE(log.epochs().empty());
  EXPECT_FALSE(log.damaged_from());
  auto read = log.read(1, 1000);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->empty());
}

TEST(StoreLog, SyncedEntriesSurviveACrash) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs);
    ASSERT_TRUE(log.append(puts(1, 1, 10)).ok());
    ASSERT_TRUE(log.sync().ok());
    EXPECT_EQ(all_entries(log), puts(1, 1, 10));
  }
  fs.crash();
  Log log = open_log(fs);
  EXPECT_EQ(log.last_seq(), 10u);
  EXPECT_EQ(log.last_epoch(), 1u);
  EXPECT_EQ(all_entries(log), puts(1, 1, 10));
  EXPECT_FALSE(log.damaged_from());
  ASSERT_TRUE(log.append(puts(1, 11, 12)).ok());  // appends go on after a reopen
  EXPECT_EQ(all_entries(log).back(), put(1, 12));
}

TEST(StoreLog, UnsyncedEntriesAreLostInACrash) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs, {});  // one segment: a roll syncs what came before it
    ASSERT_TRUE(log.append(puts(1, 1, 5)).ok());
    ASSERT_TRUE(log.sync().ok());
    ASSERT_TRUE(log.append(puts(1, 6, 9)).ok());
    EXPECT_EQ(log.read(6, UINT64_MAX)->size(), 4u);  // readable before they are durable
  }
  fs.crash();
  Log log = open_log(fs, {});
  EXPECT_EQ(all_entries(log), puts(1, 1, 5));
  EXPECT_FALSE(log.damaged_from());
}

TEST(StoreLog, AppendRefusesGapsAndFallingEpochs) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.append(puts(2, 1, 2)).ok());
  EXPECT_TRUE(log.append(puts(2, 4, 4)).is(core::ErrorCode::kInvalid));
  EXPECT_TRUE(log.append(puts(2, 2, 2)).is(core::ErrorCode::kInvalid));
  EXPECT_TRUE(log.append(puts(1, 3, 3)).is(core::ErrorCode::kInvalid));
  std::vector<Entry> half_bad = {put(2, 3), put(2, 5)};
  EXPECT_TRUE(log.append(half_bad).is(core::ErrorCode::kInvalid));
  Entry too_big = put(2, 3);
  too_big.key.assign(kMaxKeyBytes + 1, 'k');
  EXPECT_TRUE(log.append({&too_big, 1}).is(core::ErrorCode::kInvalid));
  EXPECT_EQ(log.last_seq(), 2u);  // nothing of the refused calls went in
  ASSERT_TRUE(log.append(puts(3, 3, 3)).ok());
  EXPECT_EQ(all_entries(log).size(), 3u);
}

TEST(StoreLog, RollsSegmentsNamedByTheirFirstSeq) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs);
    for (uint64_t seq = 1; seq <= 10; ++seq) ASSERT_TRUE(log.append(puts(1, seq, seq)).ok());
    ASSERT_TRUE(log.sync().ok());
  }
  const auto files = segment_files(fs);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.front(), "00000000000000000001.log");
  for (const std::string& f : files) EXPECT_LE(fs.contents(kDir / f).size(), kSmallSegments.segment_bytes) << f;
  fs.crash();
  Log log = open_log(fs);
  EXPECT_EQ(all_entries(log), puts(1, 1, 10));
}

TEST(StoreLog, OneBigAppendRollsToo) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.append(puts(1, 1, 10)).ok());
  EXPECT_GE(segment_files(fs).size(), 3u);
  EXPECT_EQ(all_entries(log), puts(1, 1, 10));
}

TEST(StoreLog, AnEntryLargerThanASegmentGetsOneToItself) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Entry big = put(1, 2);
  big.value.assign(1000, 'v');
  std::vector<Entry> three = {put(1, 1), big, put(1, 3)};
  ASSERT_TRUE(log.append(three).ok());
  EXPECT_EQ(segment_files(fs).size(), 3u);
  EXPECT_EQ(all_entries(log), three);
}

TEST(StoreLog, ReadStopsAtMaxBytesButGivesAtLeastOne) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.append(puts(1, 1, 10)).ok());
  const uint64_t one = encoded_size(put(1, 1));
  EXPECT_EQ(log.read(1, 1)->size(), 1u);
  EXPECT_EQ(log.read(1, one)->size(), 1u);
  EXPECT_EQ(log.read(1, 2 * one)->size(), 2u);
  EXPECT_EQ(*log.read(4, 5 * one), puts(1, 4, 8));  // across segment files
  EXPECT_EQ(*log.read(9, UINT64_MAX), puts(1, 9, 10));
  EXPECT_TRUE(log.read(11, UINT64_MAX)->empty());
  EXPECT_TRUE(log.read(0, UINT64_MAX).is(core::ErrorCode::kNotFound));
}

TEST(StoreLog, EpochHistoryComesBackFromTheEntries) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs);
    ASSERT_TRUE(log.append(puts(1, 1, 3)).ok());
    ASSERT_TRUE(log.append(puts(3, 4, 6)).ok());
    ASSERT_TRUE(log.append(puts(7, 7, 7)).ok());
    ASSERT_TRUE(log.sync().ok());
  }
  fs.crash();
  Log log = open_log(fs);
  const std::vector<EpochHistory::Start> want = {{1, 1}, {3, 4}, {7, 7}};
  EXPECT_EQ(log.epochs().starts(), want);
  EXPECT_EQ(log.last_epoch(), 7u);
  EXPECT_EQ(log.epochs().end_of(2, log.last_seq()), 4u);
}

TEST(StoreLog, TornTailIsDroppedWithoutDamage) {
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    FaultyFileSystem fs(seed);
    {
      Log log = open_log(fs, {});
      ASSERT_TRUE(log.append(puts(1, 1, 5)).ok());
      ASSERT_TRUE(log.sync().ok());
      ASSERT_TRUE(log.append(puts(1, 6, 9)).ok());
    }
    fs.crash(/*tear=*/true);
    Log log = open_log(fs, {});
    EXPECT_FALSE(log.damaged_from()) << seed;
    ASSERT_GE(log.last_seq(), 5u) << seed;
    EXPECT_EQ(all_entries(log), puts(1, 1, log.last_seq())) << seed;
    // The torn bytes are gone from the file, so the next append is readable.
    ASSERT_TRUE(log.append(puts(1, log.last_seq() + 1, log.last_seq() + 1)).ok());
    EXPECT_EQ(all_entries(log).size(), log.last_seq()) << seed;
  }
}

TEST(StoreLog, FlippedByteMidLogIsDamage) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs, {});
    ASSERT_TRUE(log.append(puts(1, 1, 10)).ok());
    ASSERT_TRUE(log.sync().ok());
  }
  const Path file = kDir / "00000000000000000001.log";
  const uint64_t frame = encoded_size(put(1, 1));
  fs.flip_byte(file, 2 * frame + 30);  // inside entry 3
  Log log = open_log(fs, {});
  EXPECT_EQ(log.damaged_from(), 3u);
  EXPECT_EQ(log.last_seq(), 2u);
  EXPECT_EQ(all_entries(log), puts(1, 1, 2));
  EXPECT_EQ(fs.contents(file).size(), 2 * frame);  // cut there: the replica re-fetches 3 on
}

TEST(StoreLog, FlippedByteInAnEarlierSegmentIsDamage) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs);
    ASSERT_TRUE(log.append(puts(1, 1, 10)).ok());
    ASSERT_TRUE(log.sync().ok());
  }
  const auto files = segment_files(fs);
  ASSERT_GE(files.size(), 3u);
  // The last byte of the first segment: its last frame, with nothing after
  // it in that file, but later segments exist.
  const Path first = kDir / files.front();
  fs.flip_byte(first, fs.contents(first).size() - 1);
  Log log = open_log(fs);
  ASSERT_TRUE(log.damaged_from());
  const uint64_t bad = *log.damaged_from();
  EXPECT_EQ(log.last_seq(), bad - 1);
  EXPECT_EQ(all_entries(log), puts(1, 1, bad - 1));
  EXPECT_EQ(segment_files(fs).size(), 1u);  // the later segments went
}

TEST(StoreLog, CorruptLastFrameLooksTornAndIsDropped) {
  // Nothing after it: the log cannot tell a bad sector from a write the
  // crash cut, and either way the entry was never acknowledged... unless it
  // was synced; then the peer still has it and the replica re-fetches it.
  FaultyFileSystem fs;
  {
    Log log = open_log(fs, {});
    ASSERT_TRUE(log.append(puts(1, 1, 3)).ok());
    ASSERT_TRUE(log.sync().ok());
  }
  const Path file = kDir / "00000000000000000001.log";
  fs.flip_byte(file, frames_bytes(puts(1, 1, 3)) - 1);
  Log log = open_log(fs, {});
  EXPECT_EQ(log.last_seq(), 2u);
  EXPECT_FALSE(log.damaged_from());
}

TEST(StoreLog, TruncateAfterQuarantinesThenCuts) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.append(puts(1, 1, 4)).ok());
  ASSERT_TRUE(log.append(puts(2, 5, 8)).ok());
  ASSERT_TRUE(log.sync().ok());
  auto cut = log.truncate_after(3, kQuarantine);
  ASSERT_TRUE(cut.ok()) << cut.error().to_string();
  std::vector<Entry> want = puts(1, 4, 4);
  for (const Entry& e : puts(2, 5, 8)) want.push_back(e);
  EXPECT_EQ(*cut, want);
  EXPECT_EQ(log.last_seq(), 3u);
  EXPECT_EQ(log.last_epoch(), 1u);
  EXPECT_EQ(log.epochs().last_epoch(), 1u);  // epoch 2 started after the cut

  const std::string lines = fs.contents(kQuarantine / "000001.jsonl");
  EXPECT_EQ(lines.substr(0, lines.find('\n')),
            R"({"epoch":1,"seq":4,"op":"put","key":"key4","value":"value of 4"})");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 5);

  // The log goes on from the cut, in a new epoch, and all of it is durable.
  ASSERT_TRUE(log.append(puts(3, 4, 5)).ok());
  ASSERT_TRUE(log.sync().ok());
  fs.crash();
  Log again = open_log(fs);
  std::vector<Entry> now = puts(1, 1, 3);
  for (const Entry& e : puts(3, 4, 5)) now.push_back(e);
  EXPECT_EQ(all_entries(again), now);
  EXPECT_FALSE(again.damaged_from());
  EXPECT_EQ(fs.contents(kQuarantine / "000001.jsonl"), lines);  // the quarantine was durable
}

TEST(StoreLog, TruncateToTheBaseEmptiesTheLog) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.append(puts(1, 1, 8)).ok());
  auto cut = log.truncate_after(0, kQuarantine);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->size(), 8u);
  EXPECT_EQ(log.last_seq(), 0u);
  EXPECT_EQ(log.last_epoch(), 0u);
  EXPECT_TRUE(all_entries(log).empty());
  ASSERT_TRUE(log.append(puts(2, 1, 1)).ok());
  EXPECT_EQ(all_entries(log), puts(2, 1, 1));
}

TEST(StoreLog, TruncateWithNothingToCutWritesNothing) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.append(puts(1, 1, 3)).ok());
  auto cut = log.truncate_after(3, kQuarantine);
  ASSERT_TRUE(cut.ok());
  EXPECT_TRUE(cut->empty());
  EXPECT_FALSE(fs.exists(kQuarantine));
  EXPECT_TRUE(log.truncate_after(10, kQuarantine)->empty());
}

TEST(StoreLog, EachTruncationGetsItsOwnQuarantineFile) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.append(puts(1, 1, 6)).ok());
  ASSERT_TRUE(log.truncate_after(4, kQuarantine).ok());
  ASSERT_TRUE(log.truncate_after(2, kQuarantine).ok());
  EXPECT_EQ(*fs.list_dir(kQuarantine), (std::vector<std::string>{"000001.jsonl", "000002.jsonl"}));
}

TEST(StoreLog, QuarantineKeepsBinaryValuesAsBase64) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  Entry binary{.epoch = 1, .seq = 1, .op = Op::kPut, .key = "k", .value = std::string("\xff\x00", 2), .idempotency_key = ""};
  Entry deleted{.epoch = 1, .seq = 2, .op = Op::kDelete, .key = "k", .value = "", .idempotency_key = "req-9"};
  std::vector<Entry> two = {binary, deleted};
  ASSERT_TRUE(log.append(two).ok());
  ASSERT_TRUE(log.truncate_after(0, kQuarantine).ok());
  EXPECT_EQ(fs.contents(kQuarantine / "000001.jsonl"),
            "{\"epoch\":1,\"seq\":1,\"op\":\"put\",\"key\":\"k\",\"value_base64\":\"/wA=\"}\n"
            "{\"epoch\":1,\"seq\":2,\"op\":\"delete\",\"key\":\"k\",\"value\":\"\",\"idempotency_key\":\"req-9\"}\n");
}

TEST(StoreLog, TruncateBelowTheBaseIsRefused) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  ASSERT_TRUE(log.reset(4, 100).ok());
  ASSERT_TRUE(log.append(puts(4, 101, 103)).ok());
  EXPECT_TRUE(log.truncate_after(99, kQuarantine).is(core::ErrorCode::kInvalid));
  EXPECT_EQ(log.last_seq(), 103u);
  ASSERT_TRUE(log.truncate_after(100, kQuarantine).ok());
  EXPECT_EQ(log.last_seq(), 100u);
  EXPECT_EQ(log.last_epoch(), 4u);
}

TEST(StoreLog, DiscardBeforeRemovesOnlyWholeSegmentsBelow) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs);
    ASSERT_TRUE(log.append(puts(1, 1, 4)).ok());
    ASSERT_TRUE(log.append(puts(2, 5, 12)).ok());
    ASSERT_TRUE(log.sync().ok());
    const auto before = segment_files(fs);
    ASSERT_TRUE(log.discard_before(8).ok());
    const auto after = segment_files(fs);
    EXPECT_LT(after.size(), before.size());
    EXPECT_GT(log.first_seq(), 1u);
    EXPECT_LE(log.first_seq(), 8u);  // 8 itself is kept
    EXPECT_EQ(*log.read(log.first_seq(), UINT64_MAX), puts(2, log.first_seq(), 12));
    EXPECT_TRUE(log.read(1, 10).is(core::ErrorCode::kNotFound));
    ASSERT_TRUE(log.discard_before(1000).ok());  // never the last segment
    EXPECT_EQ(log.last_seq(), 12u);
    EXPECT_EQ(all_entries(log).back(), put(2, 12));
  }
  fs.crash();
  Log log = open_log(fs);
  EXPECT_EQ(log.last_seq(), 12u);
  EXPECT_GT(log.first_seq(), 8u);
  // What the discarded segments said about epochs is kept in the base.
  const std::vector<EpochHistory::Start> want = {{1, 1}, {2, 5}};
  EXPECT_EQ(log.epochs().starts(), want);
  EXPECT_FALSE(log.damaged_from());
}

TEST(StoreLog, ResetStartsAfterTheBaseAndSurvivesACrash) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs);
    ASSERT_TRUE(log.append(puts(1, 1, 9)).ok());
    ASSERT_TRUE(log.reset(5, 500).ok());
    EXPECT_EQ(log.first_seq(), 501u);
    EXPECT_EQ(log.last_seq(), 500u);
    EXPECT_EQ(log.last_epoch(), 5u);
    EXPECT_TRUE(log.append(puts(5, 10, 10)).is(core::ErrorCode::kInvalid));
    EXPECT_TRUE(log.append(puts(4, 501, 501)).is(core::ErrorCode::kInvalid));
    ASSERT_TRUE(log.append(puts(5, 501, 502)).ok());
    ASSERT_TRUE(log.sync().ok());
  }
  fs.crash();
  Log log = open_log(fs);
  EXPECT_EQ(log.first_seq(), 501u);
  EXPECT_EQ(all_entries(log), puts(5, 501, 502));
  EXPECT_EQ(log.epochs().epoch_at(500), 5u);
  EXPECT_EQ(segment_files(fs), std::vector<std::string>{"00000000000000000501.log"});
}

TEST(StoreLog, ResetKeepsAGivenHistory) {
  FaultyFileSystem fs;
  Log log = open_log(fs);
  EpochHistory source;
  source.add(1, 1);
  source.add(3, 40);
  source.add(6, 90);  // after the base: not ours
  ASSERT_TRUE(log.reset(3, 50, source).ok());
  const std::vector<EpochHistory::Start> want = {{1, 1}, {3, 40}};
  EXPECT_EQ(log.epochs().starts(), want);
  EXPECT_EQ(log.epochs().end_of(2, log.last_seq()), 40u);
}

TEST(StoreLog, AFailedSyncFailsTheLogForGood) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs);
    ASSERT_TRUE(log.append(puts(1, 1, 2)).ok());
    ASSERT_TRUE(log.sync().ok());
    ASSERT_TRUE(log.append(puts(1, 3, 4)).ok());
    fs.fail_next_sync(1);
    EXPECT_FALSE(log.sync().ok());
    EXPECT_FALSE(log.sync().ok());  // never retried into a false success
    EXPECT_FALSE(log.append(puts(1, 5, 5)).ok());
  }
  fs.crash();
  Log log = open_log(fs);
  EXPECT_EQ(all_entries(log), puts(1, 1, 2));
}

TEST(StoreLog, AFullDiskIsRecognisable) {
  FaultyFileSystem fs;
  {
    Log log = open_log(fs, {});
    ASSERT_TRUE(log.append(puts(1, 1, 2)).ok());
    ASSERT_TRUE(log.sync().ok());
    fs.set_capacity(fs.contents(kDir / "00000000000000000001.log").size() + 10);
    std::vector<Entry> big = puts(1, 3, 3);  // past the zeros reserved ahead
    big[0].value.assign(2 * kReserve, 'v');
    auto r = log.append(big);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(is_disk_full(r.error())) << r.error().to_string();
  }
  fs.crash();
  fs.set_capacity(UINT64_MAX);
  Log log = open_log(fs, {});
  EXPECT_EQ(all_entries(log), puts(1, 1, 2));
  EXPECT_FALSE(log.damaged_from());
}

TEST(StoreLog, ZerosAreReservedAheadAndTakenForTheEndOnOpen) {
  FaultyFileSystem fs;
  const Path file = kDir / "00000000000000000001.log";
  {
    Log log = open_log(fs, {});
    ASSERT_TRUE(log.append(puts(1, 1, 3)).ok());
    ASSERT_TRUE(log.sync().ok());
    EXPECT_EQ(fs.contents(file).size(), frames_bytes(puts(1, 1, 3)) + kReserve);
    ASSERT_TRUE(log.append(puts(1, 4, 5)).ok());  // over the zeros, never synced
  }
  fs.crash();
  Log log = open_log(fs, {});
  EXPECT_EQ(log.last_seq(), 3u);
  EXPECT_FALSE(log.damaged_from());
  EXPECT_EQ(fs.contents(file).size(), frames_bytes(puts(1, 1, 3)));  // cut at the last frame
  ASSERT_TRUE(log.append(puts(1, 4, 5)).ok());
  ASSERT_TRUE(log.sync().ok());
  fs.crash();
  EXPECT_EQ(all_entries(open_log(fs, {})), puts(1, 1, 5));
}

TEST(StoreLog, AFinishedSegmentKeepsNoReservedZeros) {
  // A bad frame in a segment before the last is damage, so the zeros go
  // before the next segment exists.
  FaultyFileSystem fs;
  const LogOptions options{.segment_bytes = 3 * kReserve};
  std::vector<Entry> entries = puts(1, 1, 4);
  for (Entry& e : entries) e.value.assign(kReserve, 'v');  // two to a segment
  {
    Log log = open_log(fs, options);
    ASSERT_TRUE(log.append(entries).ok());
    ASSERT_TRUE(log.sync().ok());
    ASSERT_EQ(segment_files(fs).size(), 2u);
    EXPECT_EQ(fs.contents(kDir / "00000000000000000001.log").size(),
              frames_bytes({entries.begin(), entries.begin() + 2}));
  }
  fs.crash();
  Log log = open_log(fs, options);
  EXPECT_EQ(all_entries(log), entries);
  EXPECT_FALSE(log.damaged_from());
}

TEST(StoreLog, AFullDiskOnlyStopsTheReserve) {
  FaultyFileSystem fs;
  fs.set_capacity(1000);
  Log log = open_log(fs, {});
  ASSERT_TRUE(log.append(puts(1, 1, 2)).ok());
  ASSERT_TRUE(log.sync().ok());
  EXPECT_EQ(fs.contents(kDir / "00000000000000000001.log").size(), 1000u);  // zeros up to the capacity
  ASSERT_TRUE(log.append(puts(1, 3, 3)).ok());  // over them
  ASSERT_TRUE(log.sync().ok());
  fs.crash();
  EXPECT_EQ(all_entries(open_log(fs, {})), puts(1, 1, 3));
}

TEST(StoreLog, WorksOnTheRealDisk) {
  const Path dir = std::filesystem::temp_directory_path() / ("store_log_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto log = Log::open(posix_file_system(), dir / "log", kSmallSegments);
    ASSERT_TRUE(log.ok()) << log.error().to_string();
    ASSERT_TRUE(log->append(puts(1, 1, 10)).ok());
    ASSERT_TRUE(log->sync().ok());
    ASSERT_TRUE(log->truncate_after(7, dir / "quarantine").ok());
    ASSERT_TRUE(log->discard_before(5).ok());
  }
  auto log = Log::open(posix_file_system(), dir / "log", kSmallSegments);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->last_seq(), 7u);
  EXPECT_EQ(*log->read(log->first_seq(), UINT64_MAX), puts(1, log->first_seq(), 7));
  EXPECT_TRUE(std::filesystem::exists(dir / "quarantine" / "000001.jsonl"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace failover::store
