#pragma once
// The keeper of the store's one record (DESIGN.md, "The stateful protocol"):
// what the store's nodes call to learn who is primary and to change it. The
// witness (WitnessClient, over HTTP) implements it, and an etcd key
// (EtcdArbiter). Every implementation enforces check_transition().
//
// Threads: an Arbiter is used from the one thread that runs its executor.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>

#include "arbiter/record.h"
#include "core/result.h"

namespace failover::arbiter {

// The answer to a compare-and-set: the record as it now is, or why not.
struct CasAnswer {
  core::Result<Record> result;
  // With kConflict: the record that won, when the arbiter said which.
  std::optional<Record> current;
};

class Arbiter {
 public:
  virtual ~Arbiter() = default;

  // The record as the arbiter holds it now. kUnavailable when it could not
  // be reached, kTimeout when it did not answer in time, kInvalid when its
  // answer is not a record.
  virtual boost::asio::awaitable<core::Result<Record>> read() = 0;

  // Replaces the record by `proposed` if its version is still
  // `expected_version` and check_transition() allows it; the new record is
  // durable before the answer. Errors:
  //   kConflict    the version moved: someone else changed the record first
  //                (`current` = the record that won, when known);
  //   kUnavailable certainly not applied (the request never reached the arbiter);
  //   kTimeout     maybe applied: read() to learn which;
  //   kInvalid     refused by a rule of check_transition(), or a malformed answer.
  virtual boost::asio::awaitable<CasAnswer> compare_and_set(std::uint64_t expected_version, Record proposed) = 0;
};

}  // namespace failover::arbiter
