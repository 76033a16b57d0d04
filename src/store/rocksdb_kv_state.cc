// The applied state on RocksDB: built into the module that kv_module.h
// describes, never linked into the binary itself.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <unordered_set>

#include "store/kv_module.h"
#include "store/kv_state.h"
#include "store/rocksdb_kv_codec.h"

namespace failover::store {

namespace {

constexpr std::uint64_t kMinBlobBytes = 64u << 10;

// RocksDB counts every key comparison in a thread-local perf context unless
// the thread's perf level says not to; from a dlopened module each count
// costs two calls to __tls_get_addr, a quarter of an applied write's time
// (a memtable insert compares ~20 keys). Nothing here reads those counts.
// The level is per thread: set by each call that goes into RocksDB.
void without_perf_counters() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

class RocksKvState final : public KvState {
 public:
  static core::Result<std::unique_ptr<KvState>> open(const std::string& dir, KvStateOptions options);
  static core::Result<std::unique_ptr<KvState>> install_checkpoint(const std::string& checkpoint_dir,
                                                                   const std::string& dir, KvStateOptions options);

  core::Result<void> apply(std::span<const KvEntry> entries) override;
  std::vector<std::string> large_keys() const override { return {large_.begin(), large_.end()}; }
  std::uint64_t applied_seq() const override { return applied_.load(std::memory_order_acquire); }
  core::Result<std::optional<VersionedValue>> get(std::string_view key) const override;
  core::Result<std::optional<std::uint64_t>> version(std::string_view key) const override;
  core::Result<std::optional<IdempotencyRecord>> idempotent(std::string_view idempotency_key) const override;
  core::Result<KvPage> list(std::string_view prefix, std::string_view after, std::size_t limit,
                            std::size_t max_bytes) const override;
  core::Result<void> flush() override;
  core::Result<std::uint64_t> checkpoint(const std::string& dir) override;

 private:
  RocksKvState(std::unique_ptr<rocksdb::DB> db, KvStateOptions options) : db_(std::move(db)), options_(options) {}

  core::Result<std::optional<std::string>> read(std::string_view key) const {
    without_perf_counters();
    std::string out;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &out);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return rocks_error("read", s);
    return std::optional<std::string>(std::move(out));
  }

  // The oldest seq whose idempotency record still counts when the state
  // stands at `applied`: records at or below the cutoff are expired.
  std::uint64_t idempotency_cutoff(std::uint64_t applied_seq) const {
    return applied_seq > options_.idempotency_window ? applied_seq - options_.idempotency_window : 0;
  }

  // The version a key's kLargePrefix record holds; nullopt when it has none
  // (the key holds no large value, or the record predates versions in it).
  core::Result<std::optional<std::uint64_t>> large_version(std::string_view key) const {
    auto record = read(large_key(key));
    if (!record) return record.error();
    return *record ? decode_u64(**record) : std::nullopt;
  }

  // Loads large_ from the kLargePrefix records.
  core::Result<void> load_large_keys();
  // The seq of the oldest kIdemSeqPrefix record: nullopt when there is none.
  core::Result<std::optional<std::uint64_t>> find_oldest_idempotency_seq() const;

  const std::unique_ptr<rocksdb::DB> db_;
  const KvStateOptions options_;
  std::atomic<std::uint64_t> applied_{0};
  std::unordered_set<std::string> large_;  // as the kLargePrefix records say; the applier's
  // The oldest idempotency record's seq (the applier's): apply looks for
  // expired records only when this one is, not with an iterator per batch.
  std::optional<std::uint64_t> oldest_idempotency_seq_;
};

core::Result<std::optional<std::uint64_t>> RocksKvState::find_oldest_idempotency_seq() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(kIdemSeqPrefix);
  if (!it->status().ok()) return rocks_error("read the idempotency records", it->status());
  if (!it->Valid() || !it->key().starts_with(kIdemSeqPrefix)) return std::optional<std::uint64_t>();
  // A damaged key reads as 0: the first prune stops at it (and looks again each batch).
  return std::optional<std::uint64_t>(idem_seq_of(it->key().ToStringView()).value_or(0));
}

core::Result<void> RocksKvState::load_large_keys() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(kLargePrefix); it->Valid() && it->key().starts_with(kLargePrefix); it->Next())
    large_.insert(it->key().ToString().substr(kLargePrefix.size()));
  if (!it->status().ok()) return rocks_error("read the large keys", it->status());
  return core::ok();
}

core::Result<std::unique_ptr<KvState>> RocksKvState::open(const std::string& dir, KvStateOptions options) {
  if (auto restored = recover_interrupted_install(dir); !restored) return restored.error();
  rocksdb::Options rocks;
  rocks.create_if_missing = true;
  // With the WAL off, closing must flush the memtables, or a clean stop
  // would lose the applied state as a crash does (RocksDB's default, kept
  // explicit because the restart time depends on it).
  rocks.avoid_flush_during_shutdown = false;
  // Large values (up to 64 MiB) go to blob files, out of the LSM tree, so
  // compactions do not rewrite them (BlobDB, "integrated" since RocksDB 6.18).
  rocks.enable_blob_files = true;
  rocks.min_blob_size = kMinBlobBytes;
  rocks.enable_blob_garbage_collection = true;
  // Memtables of 8 MiB, not RocksDB's 64: every applied write is a skiplist
  // insert on each node, and its cost grows with the memtable (cache misses
  // down its levels): at 64 MiB the inserts were a quarter of a backup's CPU
  // and three nodes wrote 0.76 of a pair's rate, at 8 MiB 0.80 (bench/store,
  // 64 clients). Not smaller: a value of 64 KiB or more stays in the memtable
  // until a flush moves it to a blob file, and at 2 MiB (0.81) those flushes
  // cost a quarter of the 64 KiB writes/s. Four of them let a slow flush fall
  // 24 MiB behind before RocksDB stalls a write, and the thread applying it.
  rocks.write_buffer_size = 8u << 20;
  rocks.max_write_buffer_number = 4;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(rocks, dir, &raw);
  if (!s.ok()) return rocks_error("open " + dir, s);
  std::unique_ptr<RocksKvState> state(new RocksKvState(std::unique_ptr<rocksdb::DB>(raw), options));
  auto applied = state->read(kAppliedSeqKey);
  if (!applied) return applied.error();
  if (*applied) {
    auto seq = decode_u64(**applied);
    if (!seq) return core::Error::internal(dir + ": the applied seq record is damaged");
    state->applied_ = *seq;
  }
  if (auto loaded = state->load_large_keys(); !loaded) return loaded.error();
  auto oldest = state->find_oldest_idempotency_seq();
  if (!oldest) return oldest.error();
  state->oldest_idempotency_seq_ = *oldest;
  return std::unique_ptr<KvState>(std::move(state));
}

core::Result<void> RocksKvState::apply(std::span<const KvEntry> entries) {
  without_perf_counters();
  const std::uint64_t applied = applied_seq();
  // First pass: the entries to apply must continue the state without a gap.
  std::uint64_t last = applied;
  for (const KvEntry& e : entries) {
    if (e.seq <= applied) continue;  // a replay of what RocksDB already holds
    if (e.seq != last + 1)
      return core::Error::invalid("entry seq " + std::to_string(e.seq) + " does not follow " + std::to_string(last));
    if (e.op != KvOp::kNoop && !is_user_key(e.key))
      return core::Error::invalid("entry seq " + std::to_string(e.seq) + " has a key outside the user key space");
    if (e.op != KvOp::kNoop && e.op != KvOp::kPut && e.op != KvOp::kDelete)
      return core::Error::invalid("entry seq " + std::to_string(e.seq) + " has an unknown op");
    last = e.seq;
  }
  if (last == applied) return core::ok();

  rocksdb::WriteBatch batch;
  // Prune first, so that a record this batch writes again (its key expired
  // and came back) is not deleted by the prune behind it.
  const std::uint64_t cutoff = idempotency_cutoff(last);
  std::optional<std::uint64_t> oldest_idempotency_seq = oldest_idempotency_seq_;  // once the batch is in
  if (oldest_idempotency_seq && *oldest_idempotency_seq <= cutoff) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    oldest_idempotency_seq.reset();
    for (it->Seek(kIdemSeqPrefix); it->Valid() && it->key().starts_with(kIdemSeqPrefix); it->Next()) {
      const auto seq = idem_seq_of(it->key().ToStringView());
      if (!seq || *seq > cutoff) {
        oldest_idempotency_seq = seq.value_or(0);  // a damaged one stops the prune, as it did before
        break;
      }
      batch.Delete(it->key());
      batch.Delete(idem_key(it->value().ToStringView()));
    }
    if (!it->status().ok()) return rocks_error("prune idempotency records", it->status());
  }

  // Versions as earlier entries of this batch left them (nullopt: deleted),
  // for the deletes after them: kept only when the batch has a delete.
  const bool has_delete =
      std::any_of(entries.begin(), entries.end(), [](const KvEntry& e) { return e.op == KvOp::kDelete; });
  std::unordered_map<std::string, std::optional<std::uint64_t>> written;
  std::unordered_set<std::string> idempotency_keys;  // recorded by this batch
  std::unordered_map<std::string, bool> large_after;  // keys whose largeness this batch changes
  auto is_large = [&](const std::string& key) {
    auto changed = large_after.find(key);
    return changed != large_after.end() ? changed->second : large_.contains(key);
  };
  // Records the version of the large value `key` now holds, or that it
  // holds none; a small put writes nothing for a key that was not large (no
  // tombstone per write).
  auto set_large = [&](std::string_view key, std::optional<std::uint64_t> large_version) {
    if (!large_version && large_.empty() && large_after.empty()) return;  // the common case: no large value anywhere
    std::string k(key);
    if (large_version) batch.Put(large_key(key), encode_u64(*large_version));
    else if (is_large(k)) batch.Delete(large_key(key));
    else return;
    large_after[std::move(k)] = large_version.has_value();
  };
  auto current_version = [&](std::string_view key) -> core::Result<std::optional<std::uint64_t>> {
    if (auto w = written.find(std::string(key)); w != written.end()) return w->second;
    if (is_large(std::string(key))) {  // its record has the version: no read of the value
      auto large = large_version(key);
      if (!large) return large.error();
      if (*large) return large;
    }
    auto stored = read(key);
    if (!stored) return stored.error();
    if (!*stored) return std::optional<std::uint64_t>();
    auto v = decode_versioned(**stored);
    if (!v) return core::Error::internal("the value of a key is damaged");
    return std::optional<std::uint64_t>(v->version);
  };
  auto seen_before = [&](std::string_view ikey) -> core::Result<bool> {
    if (idempotency_keys.contains(std::string(ikey))) return true;
    auto stored = read(idem_key(ikey));
    if (!stored) return stored.error();
    if (!*stored) return false;
    auto rec = decode_idempotency(**stored);
    return rec && rec->seq > cutoff;
  };

  for (const KvEntry& e : entries) {
    if (e.seq <= applied || e.op == KvOp::kNoop) continue;
    if (!e.idempotency_key.empty()) {
      auto dup = seen_before(e.idempotency_key);
      if (!dup) return dup.error();
      if (*dup) continue;  // applied before: the retry only advances the seq
    }
    IdempotencyRecord record{e.epoch, e.seq, e.seq, e.op, e.fingerprint};
    if (e.op == KvOp::kPut) {
      // The value goes in as it is after its version: no copy of a large
      // value before RocksDB's own.
      const std::string version = encode_u64(e.seq);
      const rocksdb::Slice key(e.key.data(), e.key.size());
      const rocksdb::Slice parts[] = {rocksdb::Slice(version), rocksdb::Slice(e.value.data(), e.value.size())};
      batch.Put(rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(parts, 2));
      if (has_delete) written[std::string(e.key)] = e.seq;
      set_large(e.key, e.value.size() >= kLargeValueBytes ? std::optional<std::uint64_t>(e.seq) : std::nullopt);
    } else {
      auto version = current_version(e.key);
      if (!version) return version.error();
      record.version = version->value_or(0);
      if (*version) {
        batch.Delete(rocksdb::Slice(e.key.data(), e.key.size()));
        written[std::string(e.key)] = std::nullopt;
        set_large(e.key, std::nullopt);
      }
    }
    if (!e.idempotency_key.empty() && e.seq > cutoff) {
      batch.Put(idem_key(e.idempotency_key), encode_idempotency(record));
      batch.Put(idem_seq_key(e.seq), rocksdb::Slice(e.idempotency_key.data(), e.idempotency_key.size()));
      idempotency_keys.insert(std::string(e.idempotency_key));
      if (!oldest_idempotency_seq) oldest_idempotency_seq = e.seq;
    }
  }
  batch.Put(kAppliedSeqKey, encode_u64(last));

  rocksdb::WriteOptions write;
  write.disableWAL = true;  // the replicated log is the WAL
  const rocksdb::Status s = db_->Write(write, &batch);
  if (!s.ok()) return rocks_error("apply", s);
  for (auto& [key, large] : large_after) {
    if (large) large_.insert(key);
    else large_.erase(key);
  }
  oldest_idempotency_seq_ = oldest_idempotency_seq;
  applied_.store(last, std::memory_order_release);
  return core::ok();
}

core::Result<std::optional<VersionedValue>> RocksKvState::get(std::string_view key) const {
  if (!is_user_key(key)) return core::Error::invalid("not a user key");
  auto stored = read(key);
  if (!stored) return stored.error();
  if (!*stored) return std::optional<VersionedValue>();
  auto v = decode_versioned(std::move(**stored));
  if (!v) return core::Error::internal("the value of a key is damaged");
  return std::optional<VersionedValue>(std::move(*v));
}

core::Result<std::optional<std::uint64_t>> RocksKvState::version(std::string_view key) const {
  if (!is_user_key(key)) return core::Error::invalid("not a user key");
  auto large = large_version(key);
  if (!large) return large.error();
  if (*large) return large;
  auto got = get(key);  // a small value, or a large one from before versions were kept
  if (!got) return got.error();
  return *got ? std::optional<std::uint64_t>((*got)->version) : std::nullopt;
}

core::Result<std::optional<IdempotencyRecord>> RocksKvState::idempotent(std::string_view idempotency_key) const {
  if (idempotency_key.empty()) return std::optional<IdempotencyRecord>();
  auto stored = read(idem_key(idempotency_key));
  if (!stored) return stored.error();
  if (!*stored) return std::optional<IdempotencyRecord>();
  auto rec = decode_idempotency(**stored);
  if (!rec) return core::Error::internal("an idempotency record is damaged");
  // Expired records linger until the next apply prunes them.
  if (rec->seq <= idempotency_cutoff(applied_seq())) return std::optional<IdempotencyRecord>();
  return std::optional<IdempotencyRecord>(*rec);
}

core::Result<KvPage> RocksKvState::list(std::string_view prefix, std::string_view after, std::size_t limit,
                                        std::size_t max_bytes) const {
  without_perf_counters();
  // Start at the first key that could qualify; "\x01" skips the reserved
  // "\x00" records when the prefix is empty.
  std::string_view start = std::max({prefix, after, std::string_view("\x01", 1)});
  KvPage page;
  std::size_t bytes = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (!key.starts_with(prefix)) break;  // keys with the prefix are contiguous
    if (key == after) continue;
    if (page.items.size() == limit || (!page.items.empty() && bytes >= max_bytes)) {
      page.more = true;
      break;
    }
    auto v = decode_versioned(it->value().ToStringView());
    if (!v) return core::Error::internal("the value of a key is damaged");
    bytes += key.size() + v->value.size();
    page.items.push_back({std::string(key), std::move(v->value), v->version});
  }
  if (!it->status().ok()) return rocks_error("list", it->status());
  return page;
}

core::Result<void> RocksKvState::flush() {
  rocksdb::FlushOptions options;
  options.wait = true;
  const rocksdb::Status s = db_->Flush(options);
  if (!s.ok()) return rocks_error("flush", s);
  return core::ok();
}

core::Result<std::uint64_t> RocksKvState::checkpoint(const std::string& dir) {
  if (auto made = make_checkpoint(*db_, dir); !made) return made.error();
  // apply() may have gone on while the copy was made: its own record says
  // how far it holds, and nothing else does.
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, &raw);
  if (!s.ok()) return rocks_error("open the checkpoint " + dir, s);
  const std::unique_ptr<rocksdb::DB> copy(raw);
  std::string stored;
  const rocksdb::Status got = copy->Get(rocksdb::ReadOptions(), rocksdb::Slice(kAppliedSeqKey.data(), kAppliedSeqKey.size()), &stored);
  if (got.IsNotFound()) return std::uint64_t{0};
  if (!got.ok()) return rocks_error("read the checkpoint's applied seq", got);
  const auto seq = decode_u64(stored);
  if (!seq) return core::Error::internal(dir + ": the applied seq record is damaged");
  return *seq;
}

core::Result<std::unique_ptr<KvState>> RocksKvState::install_checkpoint(const std::string& checkpoint_dir,
                                                                        const std::string& dir,
                                                                        KvStateOptions options) {
  if (auto moved = move_checkpoint_into_place(checkpoint_dir, dir); !moved) return moved.error();
  return open(dir, options);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const KvModule* failover_kv_module() {
  static const KvModule module{kKvModuleAbi, &RocksKvState::open, &RocksKvState::install_checkpoint};
  return &module;
}

}  // namespace failover::store
