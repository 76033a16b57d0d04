#pragma once
// `failover witness recover`: rebuilding a lost witness record from what the
// store's nodes saw last. Each node persists the record it last saw and the
// highest epoch it has seen, and refuses a record whose cluster_id differs or
// whose epoch is below that; so the rebuilt record is the newest one any node
// saw (highest epoch, then highest version), written as one more version of
// the same cluster. Pure: witness_service.cc does the HTTP and the disk.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/record.h"
#include "core/result.h"

namespace failover::arbiter {

// What one node's GET /status said, or why it said nothing.
struct NodeReport {
  std::string url;
  std::optional<Record> record;   // set when the node answered
  std::uint64_t highest_epoch = 0;
  std::string error;              // set when it did not answer or could not be read
};

// The "record" and "highest_epoch" fields of a node's /status JSON (other
// fields are ignored). kInvalid when either is missing or malformed.
core::Result<NodeReport> parse_node_status(std::string_view body);

struct Recovery {
  Record record;                      // to write: the newest seen, version + 1
  std::vector<std::string> warnings;  // nodes that did not answer, epochs ahead of the record
};

// kUnavailable when no node answered; kInvalid when the answering nodes name
// different clusters (the URLs are probably wrong: nothing is written).
core::Result<Recovery> recover_record(const std::vector<NodeReport>& reports);

}  // namespace failover::arbiter
