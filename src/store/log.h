#pragma once
// The replicated log: the node's only write-ahead log (RocksDB applies
// committed entries with its own WAL off). Entries are numbered by seq with
// no gap; the epoch never goes down along the log.
//
// On disk, in its directory (the node's data_dir/log/):
//   00000000000000000001.log   segments, each named by its first seq
//                              (20 digits), frames of store/entry.h, the
//                              last one followed by zeros written ahead; a
//                              new one starts once the current one would
//                              pass `segment_bytes`
//   base.json                  what precedes the first segment:
//                              {"base_seq","base_epoch","epochs":[...]}
//                              after discard_before() or reset()
//   reset.json                 a reset() under way (redone by open())
// Format and crash behaviour: docs/store.md, "On disk".
//
// Threads: the writing calls (append, sync, truncate_after, discard_before,
// reset) come from one thread at a time, the LogWriter's. The reading calls
// (read, first_seq, last_seq, last_epoch, epochs, damaged_from) may come
// from any thread at the same time; they never wait for an fsync of
// append/sync, but do wait for a truncate_after, discard_before or reset in
// progress. Reads see appended entries before they are durable.
//
// Errors: after any failed write or sync the log refuses every further
// write with that error (the process must exit and reopen, as a failed
// fsync may have lost data the page cache still shows). Bad arguments
// (a seq out of order, an entry over its limits) are kInvalid and change
// nothing.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/result.h"
#include "store/entry.h"
#include "store/epoch_history.h"
#include "store/file_system.h"

namespace failover::store {

struct LogOptions {
  uint64_t segment_bytes = 64ull << 20;
  // Zeros kept written ahead of the last frame of the active segment
  // (FileSystem::reserve): the sync of an append over them flushes data
  // only, no file size. open() takes them for the end of the log.
  uint64_t reserve_ahead = 1ull << 20;
};

class Log {
 public:
  // Opens the log in `dir` (created when missing) and recovers it:
  // - a torn or corrupt frame at the very end of the last segment is cut
  //   away: it was being written when the node stopped and never fsynced
  //   whole, so never acknowledged;
  // - a corrupt frame with a valid frame after it in its segment, one in a
  //   segment that is not the last, a seq gap or an epoch going down is
  //   damage of the medium: the log keeps the good prefix, cuts the rest and
  //   reports damaged_from() (the replica then fetches from its peer).
  // Errors: I/O errors of the file system; kInternal for an unreadable
  // base.json or reset.json.
  static core::Result<Log> open(FileSystem& fs, const Path& dir, LogOptions options = {});

  Log(Log&&) noexcept;
  Log& operator=(Log&&) noexcept;
  ~Log();

  // The seq of the oldest entry kept: base_seq + 1 (then > last_seq() when
  // the log holds no entry).
  uint64_t first_seq() const;
  // The seq of the newest entry; base_seq when there is none (0 for a new log).
  uint64_t last_seq() const;
  // The epoch of the newest entry; base_epoch when there is none.
  uint64_t last_epoch() const;
  // Epoch -> first seq, for the base and every entry kept.
  EpochHistory epochs() const;
  // The first seq open() found damaged and cut (see open), if any.
  std::optional<uint64_t> damaged_from() const;

  // Appends entries with seqs last_seq()+1, +2, ... and epochs not below
  // last_epoch() (else kInvalid, nothing written). Not durable until sync().
  core::Result<void> append(std::span<const Entry> entries);
  core::Result<void> append(const std::vector<SharedEntry>& entries);
  // Makes every appended entry durable (the segment files and their names).
  core::Result<void> sync();

  // Entries from `from_seq` on, together at most `max_bytes` encoded, but at
  // least one when there is any. Empty when from_seq > last_seq();
  // kNotFound when from_seq < first_seq() (discarded: the asker needs a
  // checkpoint).
  core::Result<std::vector<Entry>> read(uint64_t from_seq, uint64_t max_bytes) const;

  // Cuts every entry after `seq` (KIP-101 truncation of a returning node)
  // and returns them. FIRST writes them to a new file in `quarantine_dir`
  // (store/quarantine.h; fsynced, with its directory), THEN cuts the log and
  // makes the cut durable, so a crash in between leaves the quarantine
  // written and the log whole, and the caller simply retries. Nothing to
  // cut (seq >= last_seq()): returns {} and writes no file. kInvalid when
  // seq < first_seq() - 1: the base cannot be cut, install a checkpoint.
  core::Result<std::vector<Entry>> truncate_after(uint64_t seq, const Path& quarantine_dir);

  // Removes the segments whose entries are all below `seq` (they are in a
  // checkpoint now), never the last segment; first_seq() moves to the first
  // seq of the oldest segment kept. The base is written before any segment
  // goes, so a crash in between only leaves segments that open() removes.
  core::Result<void> discard_before(uint64_t seq);

  // Empties the log: the next entry is base_seq + 1, written in base_epoch or
  // later (after installing a checkpoint that holds every entry up to
  // base_seq). `history` is the epoch history of the checkpoint's source up
  // to base_seq when known; else base_epoch is taken to start at base_seq.
  // Durable when it returns; a crash during it is finished by open().
  core::Result<void> reset(uint64_t base_epoch, uint64_t base_seq, EpochHistory history = {});

 private:
  struct Impl;
  explicit Log(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace failover::store
