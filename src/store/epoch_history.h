#pragma once
// Which epoch wrote which part of the log: epoch -> the first seq of that
// epoch, ascending (Kafka's leader-epoch cache, KIP-101/KIP-279). A
// returning node asks the primary for end_of(its last epoch) and cuts its
// log there, so entries a deposed primary wrote but never committed go.
//
// Epochs may be skipped (a node sees 1, 3, 7 when it missed 2 and 4-6);
// every query is defined for epochs the history never had. Not thread-safe,
// a value: Log::epochs() hands out copies.
#include <cstdint>
#include <vector>

#include "core/result.h"

namespace boost::json {
class array;
class value;
}  // namespace boost::json

namespace failover::store {

class EpochHistory {
 public:
  struct Start {
    uint64_t epoch = 0;
    uint64_t first_seq = 0;
    bool operator==(const Start&) const = default;
  };

  // Records that `epoch` begins at `first_seq`. Ignored (false) when
  // `epoch` is not above the last one (its start is already known, and
  // entries of an epoch keep their first seq), or when `first_seq` is
  // below the last epoch's start (the log never goes back). Two epochs may
  // start at the same seq: the earlier one then holds no entry.
  bool add(uint64_t epoch, uint64_t first_seq);

  // The newest epoch, 0 when empty.
  uint64_t last_epoch() const;

  // The epoch of the entry at `seq`: the largest epoch whose first seq is
  // <= seq; 0 for seq 0 or when no epoch starts that early.
  uint64_t epoch_at(uint64_t seq) const;

  // One past the last seq that `epoch` (or an earlier one) may hold: the
  // first seq of the next higher epoch present, or log_end + 1 when no
  // higher epoch is known (then `epoch` is the last, or newer than all).
  // For an epoch the history never had this is the end of the largest
  // epoch below it, which is what the asker must keep (KIP-279).
  uint64_t end_of(uint64_t epoch, uint64_t log_end) const;

  // Drops the epochs that start after `seq` (the log was cut after seq).
  void truncate_after(uint64_t seq);

  // Keeps only the epochs that start at or before `seq` (for a log base:
  // what the entries up to seq were written in).
  EpochHistory up_to(uint64_t seq) const;

  const std::vector<Start>& starts() const { return starts_; }
  bool empty() const { return starts_.empty(); }

  // [{"epoch":1,"first_seq":1},{"epoch":3,"first_seq":40}]
  boost::json::array to_json() const;
  // kInvalid unless an array of those objects, epochs strictly ascending
  // and first seqs never descending.
  static core::Result<EpochHistory> from_json(const boost::json::value& json);

  bool operator==(const EpochHistory&) const = default;

 private:
  std::vector<Start> starts_;  // epochs strictly ascending, first_seq non-decreasing
};

}  // namespace failover::store
