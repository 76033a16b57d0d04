#pragma once
// The checker of a history of reads and writes on keys, shared by the drill
// and the tests: is it linearizable, each key a register? That is: could
// every operation have taken effect at one instant between its start and its
// end, so that each read returns the last write before it? A read that
// returns a value already overwritten when it began (a stale read), and an
// acknowledged write missing from the end (a lost write: the final reads
// are reads like any other), both break it.
//
// Every write must write a value no other write of its key writes (the
// drill writes "client-n"); a value then names its write, and the check is
// Gibbons and Korach's for read-mapped registers, O(n log n) per key: take
// each write with the reads that returned it as one cluster; its zone runs
// from the earliest end to the latest start among them. A zone whose
// earliest end comes before its latest start is a forward zone: the value
// was certainly current through it. The history is linearizable iff no
// two forward zones overlap and no backward zone (a cluster whose
// operations all overlap) lies inside a forward zone.
//
// A write whose outcome is unknown (a timeout, a dropped connection) may or
// may not have happened: it counts only if some read returned its value.
// A write that certainly failed (refused before it was applied) must never
// be read. Reads of "no value" map to the key's initial state, a write at
// the beginning of time. Deletes are not modelled (the drill makes none).
//
// Pure: no clock, no I/O; times are the caller's.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace failover::drill {

struct Operation {
  enum class Kind { kRead, kWrite };
  enum class Outcome { kOk, kFailed, kUnknown };
  Kind kind = Kind::kRead;
  std::string key;
  // A write: the value written. A read: the value read, or none (not found).
  std::optional<std::string> value;
  core::TimePoint start, end;  // as the client saw them; end >= start
  Outcome outcome = Outcome::kOk;  // a read that failed is left out
  std::string client;              // for messages
};

struct Violation {
  enum class Kind {
    kStaleRead,      // a read returned a value that had been overwritten before it began
    kUnknownValue,   // a read returned a value no write wrote, or one that certainly failed
    kReadBeforeWrite,  // a read returned a value whose write began after the read ended
  };
  Kind kind;
  std::string key;
  std::string what;  // for people: which operations, which values, when
};

// Every violation found, key by key (none: linearizable).
std::vector<Violation> check_history(const std::vector<Operation>& history);

const char* violation_name(Violation::Kind kind);

}  // namespace failover::drill
