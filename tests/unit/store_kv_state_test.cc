// The applied state on RocksDB: apply/get/list/idempotency, and what
// survives a crash with and without a flush (RocksDB runs with its WAL off).
#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/kv_state.h"

namespace failover::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kv_state_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string sub(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

KvEntry put(std::uint64_t seq, std::string_view key, std::string_view value, std::string_view idem = "") {
  return {.epoch = 1, .seq = seq, .op = KvOp::kPut, .key = key, .value = value, .idempotency_key = idem};
}
KvEntry del(std::uint64_t seq, std::string_view key, std::string_view idem = "") {
  return {.epoch = 1, .seq = seq, .op = KvOp::kDelete, .key = key, .value = "", .idempotency_key = idem};
}
KvEntry noop(std::uint64_t seq) {
  return {.epoch = 2, .seq = seq, .op = KvOp::kNoop, .key = "", .value = "", .idempotency_key = ""};
}

std::unique_ptr<KvState> open_or_fail(const std::string& dir, KvStateOptions options = {}) {
  auto s = KvState::open(dir, options);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
  return s.ok() ? std::move(*s) : nullptr;
}

std::optional<VersionedValue> get(const KvState& s, std::string_view key) {
  auto r = s.get(key);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::nullopt;
}

std::vector<std::string> keys_of(const KvPage& page) {
  std::vector<std::string> keys;
  for (const auto& item : page.items) keys.push_back(item.key);
  return keys;
}

TEST(KvState, PutGetDeleteWithVersionsFromSeqs) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  EXPECT_EQ(state->applied_seq(), 0u);
  std::vector<KvEntry> batch = {put(1, "a", "one"), put(2, "b", "two"), put(3, "a", "uno")};
  ASSERT_TRUE(state->apply(batch).ok());
  EXPECT_EQ(state->applied_seq(), 3u);
  EXPECT_EQ(get(*state, "a"), (VersionedValue{"uno", 3}));
  EXPECT_EQ(get(*state, "b"), (VersionedValue{"two", 2}));
  EXPECT_EQ(get(*state, "c"), std::nullopt);

  std::vector<KvEntry> more = {del(4, "b"), del(5, "missing")};
  ASSERT_TRUE(state->apply(more).ok());
  EXPECT_EQ(get(*state, "b"), std::nullopt);
  EXPECT_EQ(state->applied_seq(), 5u);
}

TEST(KvState, NoopOnlyAdvancesTheAppliedSeq) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  std::vector<KvEntry> batch = {put(1, "a", "x"), noop(2)};
  ASSERT_TRUE(state->apply(batch).ok());
  EXPECT_EQ(state->applied_seq(), 2u);
  EXPECT_EQ(get(*state, "a"), (VersionedValue{"x", 1}));
  auto page = state->list("", "", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(keys_of(*page), std::vector<std::string>{"a"});  // no reserved record shows
}

TEST(KvState, ReplayedEntriesAreSkippedAndGapsRefused) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  std::vector<KvEntry> first = {put(1, "a", "x"), put(2, "a", "y")};
  ASSERT_TRUE(state->apply(first).ok());
  // A replay from seq 1 after a restart: 1 and 2 are already in, 3 is new.
  std::vector<KvEntry> replay = {put(1, "a", "x"), put(2, "a", "y"), put(3, "b", "z")};
  ASSERT_TRUE(state->apply(replay).ok());
  EXPECT_EQ(get(*state, "a"), (VersionedValue{"y", 2}));
  EXPECT_EQ(state->applied_seq(), 3u);

  std::vector<KvEntry> gap = {put(5, "c", "lost one before me")};
  auto r = state->apply(gap);
  EXPECT_TRUE(r.is(core::ErrorCode::kInvalid));
  EXPECT_EQ(state->applied_seq(), 3u);
  EXPECT_EQ(get(*state, "c"), std::nullopt);
}

TEST(KvState, RefusesReservedAndOversizedKeysWithoutApplyingAnything) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  const std::string reserved("\x00meta/applied_seq", 17);
  std::vector<KvEntry> batch = {put(1, "ok", "x"), put(2, reserved, "evil")};
  EXPECT_TRUE(state->apply(batch).is(core::ErrorCode::kInvalid));
  EXPECT_EQ(state->applied_seq(), 0u);
  EXPECT_EQ(get(*state, "ok"), std::nullopt);
  EXPECT_TRUE(state->get(reserved).is(core::ErrorCode::kInvalid));
  EXPECT_TRUE(state->get(std::string(kMaxKeyBytes + 1, 'k')).is(core::ErrorCode::kInvalid));
  const std::string longest_key(kMaxKeyBytes, 'k');
  std::vector<KvEntry> longest = {put(1, longest_key, "x")};
  EXPECT_TRUE(state->apply(longest).ok());
}

TEST(KvState, ListPagesThroughAPrefixInKeyOrder) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  std::vector<std::string> keys = {"user/3", "user/1", "users", "user/2", "a", "user/10", "v"};
  std::vector<std::string> values;
  for (const auto& k : keys) values.push_back("v" + k);
  std::vector<KvEntry> batch;
  for (std::size_t i = 0; i < keys.size(); ++i) batch.push_back(put(i + 1, keys[i], values[i]));
  ASSERT_TRUE(state->apply(batch).ok());

  auto p1 = state->list("user/", "", 2);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(keys_of(*p1), (std::vector<std::string>{"user/1", "user/10"}));
  EXPECT_TRUE(p1->more);
  EXPECT_EQ(p1->items[0].value, "vuser/1");
  EXPECT_EQ(p1->items[0].version, 2u);

  auto p2 = state->list("user/", p1->items.back().key, 2);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(keys_of(*p2), (std::vector<std::string>{"user/2", "user/3"}));
  EXPECT_FALSE(p2->more);  // "users" does not have the prefix

  auto all = state->list("", "", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), keys.size());
  EXPECT_FALSE(all->more);

  auto after_end = state->list("user/", "user/9", 10);
  ASSERT_TRUE(after_end.ok());
  EXPECT_TRUE(after_end->items.empty());
  auto before_prefix = state->list("user/", "a", 1);  // `after` below the prefix
  ASSERT_TRUE(before_prefix.ok());
  EXPECT_EQ(keys_of(*before_prefix), std::vector<std::string>{"user/1"});
}

TEST(KvState, AListPageEndsOnceItHoldsMaxBytes) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  const std::string big(1000, 'v');
  std::vector<KvEntry> batch = {put(1, "a", big), put(2, "b", big), put(3, "c", big)};
  ASSERT_TRUE(state->apply(batch).ok());
  auto page = state->list("", "", 100, 1500);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(keys_of(*page), (std::vector<std::string>{"a", "b"}));  // 2002 bytes: the one past the bound ends it
  EXPECT_TRUE(page->more);
  auto one = state->list("", "", 100, 10);  // never an empty page with more set
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(keys_of(*one), std::vector<std::string>{"a"});
  EXPECT_TRUE(one->more);
}

TEST(KvState, AWriteRetriedUnderItsIdempotencyKeyIsAppliedOnce) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  std::vector<KvEntry> first = {put(1, "k", "v1", "req-1")};
  ASSERT_TRUE(state->apply(first).ok());
  // Another client writes, then the first client's retry reaches the log.
  std::vector<KvEntry> later = {put(2, "k", "v2", "req-2"), put(3, "k", "v1", "req-1")};
  ASSERT_TRUE(state->apply(later).ok());
  EXPECT_EQ(get(*state, "k"), (VersionedValue{"v2", 2}));  // the retry did not overwrite
  EXPECT_EQ(state->applied_seq(), 3u);

  auto record = state->idempotent("req-1");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(*record, (IdempotencyRecord{.epoch = 1, .seq = 1, .version = 1, .op = KvOp::kPut}));
  auto none = state->idempotent("never-sent");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);
}

TEST(KvState, RetriesInOneBatchAreAppliedOnceAndDeletesRecordTheRemovedVersion) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"));
  std::vector<KvEntry> batch = {put(1, "k", "v"), del(2, "k", "d-1"), put(3, "k", "again"), del(4, "k", "d-1")};
  ASSERT_TRUE(state->apply(batch).ok());
  EXPECT_EQ(get(*state, "k"), (VersionedValue{"again", 3}));  // the second delete was the retry
  auto record = state->idempotent("d-1");
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->seq, 2u);
  EXPECT_EQ((*record)->version, 1u);
  EXPECT_EQ((*record)->op, KvOp::kDelete);
}

TEST(KvState, IdempotencyRecordsOlderThanTheWindowArePruned) {
  TempDir tmp;
  auto state = open_or_fail(tmp.sub("kv"), {.idempotency_window = 3});
  std::vector<KvEntry> batch = {put(1, "k", "a", "old"), put(2, "k", "b", "mid")};
  ASSERT_TRUE(state->apply(batch).ok());
  std::vector<KvEntry> more = {noop(3), noop(4)};  // applied 4: seq 1 is out of the window of 3
  ASSERT_TRUE(state->apply(more).ok());
  EXPECT_EQ(*state->idempotent("old"), std::nullopt);
  EXPECT_TRUE(state->idempotent("mid")->has_value());
  // An expired key is a new write again.
  std::vector<KvEntry> reuse = {put(5, "k", "c", "old")};
  ASSERT_TRUE(state->apply(reuse).ok());
  EXPECT_EQ(get(*state, "k"), (VersionedValue{"c", 5}));
  EXPECT_EQ((*state->idempotent("old"))->seq, 5u);
  EXPECT_EQ(*state->idempotent("mid"), std::nullopt);  // seq 2 left the window at 5
}

// Expired records are deleted, not only ignored: by the batch that expires
// them, and after a reopen too (the oldest record's seq is found again). A
// reopen with a wider window shows which records are still held.
TEST(KvState, ExpiredIdempotencyRecordsAreDeletedBeforeAndAfterAReopen) {
  TempDir tmp;
  const std::string dir = tmp.sub("kv");
  const auto held = [&dir](std::string_view key) {
    auto wide = open_or_fail(dir, {.idempotency_window = 1000});
    return wide->idempotent(key)->has_value();
  };
  {
    auto state = open_or_fail(dir, {.idempotency_window = 3});
    std::vector<KvEntry> first = {put(1, "k", "a", "one"), put(2, "k", "b", "two")};
    ASSERT_TRUE(state->apply(first).ok());
  }
  ASSERT_TRUE(held("one"));
  {
    auto state = open_or_fail(dir, {.idempotency_window = 3});
    std::vector<KvEntry> later = {noop(3), noop(4), noop(5), put(6, "k", "c", "six")};
    ASSERT_TRUE(state->apply(later).ok());  // cutoff 3: seqs 1 and 2 go
    std::vector<KvEntry> more = {noop(7), noop(8)};
    ASSERT_TRUE(state->apply(more).ok());  // cutoff 5: seq 6 stays
  }
  EXPECT_FALSE(held("one"));
  EXPECT_FALSE(held("two"));
  EXPECT_TRUE(held("six"));
  {
    auto state = open_or_fail(dir, {.idempotency_window = 3});
    std::vector<KvEntry> expire = {noop(9)};
    ASSERT_TRUE(state->apply(expire).ok());  // cutoff 6: seq 6 goes
  }
  EXPECT_FALSE(held("six"));
}

TEST(KvState, CleanCloseKeepsEverything) {
  TempDir tmp;
  {
    auto state = open_or_fail(tmp.sub("kv"));
    std::vector<KvEntry> batch = {put(1, "a", "x", "i"), put(2, "b", "y")};
    ASSERT_TRUE(state->apply(batch).ok());
  }
  auto state = open_or_fail(tmp.sub("kv"));
  EXPECT_EQ(state->applied_seq(), 2u);
  EXPECT_EQ(get(*state, "b"), (VersionedValue{"y", 2}));
  EXPECT_TRUE(state->idempotent("i")->has_value());
}

TEST(KvState, AnIdempotencyRecordKeepsTheFingerprintOfItsRequest) {
  TempDir tmp;
  {
    auto state = open_or_fail(tmp.sub("kv"));
    KvEntry e = put(1, "a", "x", "i");
    e.fingerprint = 0xA1B2C3D4;
    std::vector<KvEntry> batch = {e};
    ASSERT_TRUE(state->apply(batch).ok());
  }
  auto state = open_or_fail(tmp.sub("kv"));
  auto record = state->idempotent("i");
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->fingerprint, 0xA1B2C3D4u);
}

// Applies `before` (and flushes when asked), then `after`, and returns the
// directory as a crash at that moment would leave it: a copy of the files
// taken while RocksDB is still open (the memtables are not in them).
std::string crash_after(const TempDir& tmp, const std::vector<KvEntry>& before, bool flush,
                        const std::vector<KvEntry>& after) {
  auto state = open_or_fail(tmp.sub("kv"));
  EXPECT_TRUE(state->apply(before).ok());
  if (flush) {
    EXPECT_TRUE(state->flush().ok());
  }
  EXPECT_TRUE(state->apply(after).ok());
  EXPECT_EQ(state->applied_seq(), after.empty() ? before.back().seq : after.back().seq);
  fs::copy(tmp.sub("kv"), tmp.sub("crashed"), fs::copy_options::recursive);
  return tmp.sub("crashed");
}

TEST(KvState, CrashWithoutFlushMayGoBackButStaysAPrefixOfTheLog) {
  TempDir tmp;
  auto state = open_or_fail(crash_after(tmp, {put(1, "a", "x"), put(2, "b", "y")}, false, {put(3, "a", "z")}));
  // The WAL was off: nothing flushed, so the state went back to the start.
  // That is expected: the log replays from applied_seq() + 1.
  EXPECT_EQ(state->applied_seq(), 0u);
  EXPECT_EQ(get(*state, "a"), std::nullopt);
  std::vector<KvEntry> replay = {put(1, "a", "x"), put(2, "b", "y"), put(3, "a", "z")};
  ASSERT_TRUE(state->apply(replay).ok());
  EXPECT_EQ(get(*state, "a"), (VersionedValue{"z", 3}));
}

TEST(KvState, CrashAfterFlushKeepsWhatWasFlushed) {
  TempDir tmp;
  auto state =
      open_or_fail(crash_after(tmp, {put(1, "a", "x", "i1"), put(2, "b", "y")}, true, {put(3, "a", "z")}));
  ASSERT_EQ(state->applied_seq(), 2u);  // seq 3 was never flushed
  EXPECT_EQ(get(*state, "a"), (VersionedValue{"x", 1}));
  EXPECT_EQ(get(*state, "b"), (VersionedValue{"y", 2}));
  EXPECT_TRUE(state->idempotent("i1")->has_value());
  std::vector<KvEntry> replay = {put(3, "a", "z")};
  ASSERT_TRUE(state->apply(replay).ok());
  EXPECT_EQ(get(*state, "a"), (VersionedValue{"z", 3}));
}

TEST(KvState, CheckpointInstalledOverAnotherStateReplacesIt) {
  TempDir tmp;
  auto primary = open_or_fail(tmp.sub("primary"));
  std::vector<KvEntry> batch = {put(1, "a", "x"), put(2, "b", "y", "i")};
  ASSERT_TRUE(primary->apply(batch).ok());
  ASSERT_TRUE(primary->checkpoint(tmp.sub("ckpt")).ok());
  std::vector<KvEntry> after = {put(3, "c", "not in the checkpoint")};
  ASSERT_TRUE(primary->apply(after).ok());

  {  // a backup with diverged state of its own
    auto backup = open_or_fail(tmp.sub("backup"));
    std::vector<KvEntry> own = {put(1, "stale", "s")};
    ASSERT_TRUE(backup->apply(own).ok());
  }
  auto installed = KvState::install_checkpoint(tmp.sub("ckpt"), tmp.sub("backup"));
  ASSERT_TRUE(installed.ok()) << installed.error().to_string();
  KvState& backup = **installed;
  EXPECT_EQ(backup.applied_seq(), 2u);
  EXPECT_EQ(get(backup, "b"), (VersionedValue{"y", 2}));
  EXPECT_EQ(get(backup, "stale"), std::nullopt);
  EXPECT_EQ(get(backup, "c"), std::nullopt);
  EXPECT_TRUE(backup.idempotent("i")->has_value());
  EXPECT_FALSE(fs::exists(tmp.sub("ckpt")));
  EXPECT_FALSE(fs::exists(tmp.sub("backup.old")));
}

std::vector<std::string> sorted_large_keys(const KvState& s) {
  std::vector<std::string> keys = s.large_keys();
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST(KvState, TheKeysOfLargeValuesAreKeptWithTheState) {
  // A restarted node must know a key is large before it reads it: the read
  // of 64 MiB is done off its io thread only for keys it knows.
  TempDir tmp;
  const std::string large(kLargeValueBytes, 'L');
  const std::string below(kLargeValueBytes - 1, 's');
  {
    auto s = open_or_fail(tmp.sub("kv"));
    std::vector<KvEntry> batch = {put(1, "big", large), put(2, "small", below), put(3, "gone", large),
                                  put(4, "shrinks", large), del(5, "gone"), put(6, "shrinks", "tiny")};
    ASSERT_TRUE(s->apply(batch).ok());
    EXPECT_EQ(sorted_large_keys(*s), (std::vector<std::string>{"big"}));
    std::vector<KvEntry> more = {put(7, "grows", large), put(8, "big", "now small")};
    ASSERT_TRUE(s->apply(more).ok());
    EXPECT_EQ(sorted_large_keys(*s), (std::vector<std::string>{"grows"}));
    ASSERT_TRUE(s->checkpoint(tmp.sub("ckpt")).ok());
    std::vector<KvEntry> last = {put(9, "after", large)};
    ASSERT_TRUE(s->apply(last).ok());
  }
  auto reopened = open_or_fail(tmp.sub("kv"));
  EXPECT_EQ(sorted_large_keys(*reopened), (std::vector<std::string>{"after", "grows"}));
  auto page = reopened->list("", "", 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(keys_of(*page), (std::vector<std::string>{"after", "big", "grows", "shrinks", "small"}));  // no record shows
  reopened.reset();
  auto installed = KvState::install_checkpoint(tmp.sub("ckpt"), tmp.sub("other"));
  ASSERT_TRUE(installed.ok()) << installed.error().to_string();
  EXPECT_EQ(sorted_large_keys(**installed), (std::vector<std::string>{"grows"}));
}

TEST(KvState, TheVersionOfALargeValueIsKeptInItsRecord) {
  // version() and a delete's removed version come from the large record,
  // so a conditional write or delete of a 64 MiB value reads 8 bytes.
  TempDir tmp;
  const std::string large(kLargeValueBytes, 'L');
  auto s = open_or_fail(tmp.sub("kv"));
  std::vector<KvEntry> first = {put(1, "big", large), put(2, "small", "s"), put(3, "big", large)};
  ASSERT_TRUE(s->apply(first).ok());
  EXPECT_EQ(*s->version("big"), std::optional<std::uint64_t>(3));
  EXPECT_EQ(*s->version("small"), std::optional<std::uint64_t>(2));
  EXPECT_EQ(*s->version("absent"), std::nullopt);
  EXPECT_FALSE(s->version(std::string("\x00large/big")).ok());  // not a user key
  std::vector<KvEntry> second = {del(4, "big", "delete-big"), put(5, "other", large), put(6, "other", "small now")};
  ASSERT_TRUE(s->apply(second).ok());
  EXPECT_EQ(*s->version("big"), std::nullopt);
  EXPECT_EQ(*s->version("other"), std::optional<std::uint64_t>(6));
  const auto deleted = s->idempotent("delete-big");
  ASSERT_TRUE(deleted.ok() && deleted->has_value());
  EXPECT_EQ((*deleted)->version, 3u);  // the version it removed
}

TEST(KvState, OpenRestoresAStateAnInterruptedInstallMovedAside) {
  TempDir tmp;
  {
    auto state = open_or_fail(tmp.sub("kv"));
    std::vector<KvEntry> batch = {put(1, "a", "x")};
    ASSERT_TRUE(state->apply(batch).ok());
  }
  fs::rename(tmp.sub("kv"), tmp.sub("kv.old"));  // where a crash mid-install leaves it
  auto state = open_or_fail(tmp.sub("kv"));
  EXPECT_EQ(state->applied_seq(), 1u);
  EXPECT_EQ(get(*state, "a"), (VersionedValue{"x", 1}));
}

}  // namespace
}  // namespace failover::store
