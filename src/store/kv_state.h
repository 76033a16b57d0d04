#pragma once
// The store's applied state: the key-value map that committed log entries
// build, kept in RocksDB (docs/store.md, "Applied state").
//
// The replicated log is the only write-ahead log. RocksDB runs with its own
// WAL off, so a crash loses whatever it had not flushed to SST files; every
// apply() writes the entries' effects and the applied seq in one WriteBatch,
// so what survives is always a prefix of the log: the state as of
// applied_seq(), never a mix. After a restart the node replays the log from
// applied_seq() + 1. The log may discard entries only up to a seq that a
// flush() made durable.
//
// Key space. User keys are 1..kMaxKeyBytes bytes and never start with
// "\x00"; the state keeps its own records under "\x00" prefixes:
//   "\x00meta/applied_seq"       -> u64                the last applied seq
//   "\x00idem/" + idempotency key -> IdempotencyRecord  what that write did
//   "\x00idseq/" + be64(seq)     -> idempotency key     to prune by age
//   "\x00large/" + user key      -> u64                 its value is large; its version
//                                                     ("" in states written before it was kept)
// A user key maps to [u64 version, little-endian][value bytes]; its version
// is the seq of the entry that wrote it, so versions only grow.
//
// Threads: apply() is for one thread (the node's applier); flush(),
// checkpoint(), get(), idempotent(), list() and applied_seq() may be called
// from any thread at the same time as it (RocksDB's reads, flushes and
// checkpoints are thread-safe). A read sees each apply() whole or not at
// all; a flush or checkpoint holds at least every apply() that returned
// before it began.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/entry.h"  // kMaxKeyBytes

namespace failover::store {

inline constexpr std::size_t kMaxListPageBytes = 8 * 1024 * 1024;  // the client reads up to 16 MiB
// A value this large is read and applied off the node's io thread (a 64 MiB
// one takes ~200 ms here); the state remembers which keys hold one.
inline constexpr std::size_t kLargeValueBytes = 1u << 20;

// The values match store::Op of the log (entry.h), so converting is a cast.
enum class KvOp : std::uint8_t { kNoop = 0, kPut = 1, kDelete = 2 };

// One committed log entry, as apply() needs it. The views must stay valid
// for the call only.
struct KvEntry {
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  KvOp op = KvOp::kNoop;
  std::string_view key;
  std::string_view value;            // kPut only
  std::string_view idempotency_key;  // "" when the client sent none
  // What the request was (request_fingerprint()), kept with its
  // idempotency key so that the key is refused for another request; 0: not
  // known.
  std::uint32_t fingerprint = 0;
};

struct VersionedValue {
  std::string value;
  std::uint64_t version = 0;  // the seq of the entry that wrote it
  bool operator==(const VersionedValue&) const = default;
};

// What the first write with an idempotency key did, so that its retries get
// the same answer without being applied again.
struct IdempotencyRecord {
  std::uint64_t epoch = 0;    // of the entry
  std::uint64_t seq = 0;      // of the entry
  // kPut: the version written (== seq). kDelete: the version it removed, 0
  // when the key was already absent.
  std::uint64_t version = 0;
  KvOp op = KvOp::kNoop;
  std::uint32_t fingerprint = 0;  // of the request; 0 in records written before it was kept
  bool operator==(const IdempotencyRecord&) const = default;
};

struct KvItem {
  std::string key;
  std::string value;
  std::uint64_t version = 0;
};

struct KvPage {
  std::vector<KvItem> items;
  bool more = false;  // more keys with the prefix follow the last item
};

struct KvStateOptions {
  // An idempotency record is kept while its seq is within this many seqs of
  // the applied seq, and pruned after: at most this many records exist (one
  // entry has at most one key). A client retry comes within seconds; at 50k
  // writes/s this window is still two seconds, at 1k writes/s 100 s.
  std::uint64_t idempotency_window = 100'000;
};

// The interface; the one implementation, on RocksDB, lives in a module that
// only a process which opens a state loads (kv_module.h says why).
class KvState {
 public:
  // Opens (creating when absent) the state in directory `dir`. If a crash cut
  // install_checkpoint() short after it moved the old state aside, the old
  // state is moved back first. kInternal with RocksDB's message on failure,
  // or when the RocksDB module cannot be loaded.
  static core::Result<std::unique_ptr<KvState>> open(const std::string& dir, KvStateOptions options = {});

  // Replaces the state in `dir` by the checkpoint in `checkpoint_dir` (made
  // by checkpoint(), here or on a peer, on the same file system: it is
  // renamed, not copied) and opens it. No KvState may be open on `dir`.
  static core::Result<std::unique_ptr<KvState>> install_checkpoint(const std::string& checkpoint_dir,
                                                                   const std::string& dir,
                                                                   KvStateOptions options = {});

  virtual ~KvState() = default;  // closes RocksDB, which flushes what is still in memory

  // Applies committed entries, in seq order, in one atomic write. Entries at
  // or below applied_seq() are skipped, so a replay after a crash is safe.
  // The others must follow applied_seq() without a gap (kInvalid, nothing
  // applied, otherwise). A put or delete whose idempotency key already has a
  // record was applied before under that key (a client's retry that got into
  // the log twice) and only advances the applied seq, on every node alike.
  // A delete of an absent key only advances the applied seq.
  virtual core::Result<void> apply(std::span<const KvEntry> entries) = 0;

  // The keys whose value has kLargeValueBytes or more, kept with the state
  // (in the same batches as the values) so that a node knows them after a
  // restart or a checkpoint before it reads them. For the applier's thread.
  virtual std::vector<std::string> large_keys() const = 0;

  // The last applied seq (0 for an empty state). After a crash it is what
  // RocksDB had flushed, which may be below what was applied before.
  virtual std::uint64_t applied_seq() const = 0;

  // The key's value and version; nullopt when it is absent. kInvalid for a
  // key outside the user key space.
  virtual core::Result<std::optional<VersionedValue>> get(std::string_view key) const = 0;

  // The key's version, nullopt when it is absent, without reading a large
  // value (a conditional write or a delete of a 64 MiB value must not hold
  // the io thread for the read). kInvalid for a key outside the user key space.
  virtual core::Result<std::optional<std::uint64_t>> version(std::string_view key) const = 0;

  // The record of the write that carried `idempotency_key`, if it is still
  // within the window.
  virtual core::Result<std::optional<IdempotencyRecord>> idempotent(std::string_view idempotency_key) const = 0;

  // Up to `limit` keys that start with `prefix` and sort after `after`
  // (bytewise), in order, with their values. `more` says whether another
  // such key follows; page on with after = the last key. The page also ends
  // once its keys and values pass `max_bytes` (it always holds at least one
  // item), so that a page of 1000 values of 1 MiB stays a sane reply.
  virtual core::Result<KvPage> list(std::string_view prefix, std::string_view after, std::size_t limit,
                                    std::size_t max_bytes = kMaxListPageBytes) const = 0;

  // Writes RocksDB's memtables to SST files and waits: once it returns ok,
  // applied_seq() survives a crash and the log may discard up to it.
  virtual core::Result<void> flush() = 0;

  // A consistent copy of the state in `dir` (which must not exist), hard
  // links where possible (rocksdb::Checkpoint). It holds everything applied
  // so far, applied seq included; the memtables are flushed first. Returns
  // the applied seq of the copy.
  virtual core::Result<std::uint64_t> checkpoint(const std::string& dir) = 0;

 protected:
  KvState() = default;
  KvState(const KvState&) = delete;
  KvState& operator=(const KvState&) = delete;
};

// A key the state accepts: 1..kMaxKeyBytes bytes, not starting with "\x00".
inline bool is_user_key(std::string_view key) {
  return !key.empty() && key.size() <= kMaxKeyBytes && key.front() != '\0';
}

}  // namespace failover::store
