#pragma once
// Entries and logs for the store's unit tests.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "store/entry.h"
#include "store/log.h"

namespace failover::store {
// Readable entries in gtest failures.
inline void PrintTo(const Entry& e, std::ostream* os) {
  *os << "{" << e.epoch << "," << e.seq << "," << op_name(e.op) << "," << e.key << "," << e.value.size() << "B}";
}
}  // namespace failover::store

namespace failover::store::testing {

inline Entry put(uint64_t epoch, uint64_t seq) {
  return Entry{.epoch = epoch, .seq = seq, .op = Op::kPut, .key = "key" + std::to_string(seq),
               .value = "value of " + std::to_string(seq), .idempotency_key = ""};
}

// put(epoch, from) .. put(epoch, to)
inline std::vector<Entry> puts(uint64_t epoch, uint64_t from, uint64_t to) {
  std::vector<Entry> out;
  for (uint64_t seq = from; seq <= to; ++seq) out.push_back(put(epoch, seq));
  return out;
}

// Every entry the log holds.
inline std::vector<Entry> all_entries(const Log& log) {
  auto r = log.read(log.first_seq(), UINT64_MAX);
  return r ? *r : std::vector<Entry>{};
}

// Small segments, so a few entries span several files (one put() frame is
// about 60 bytes: three to a segment).
inline constexpr LogOptions kSmallSegments{.segment_bytes = 200};

}  // namespace failover::store::testing
