#pragma once
// The one record the arbiter keeps for a store cluster (DESIGN.md, "The
// stateful protocol"): who is primary in which epoch, and which nodes hold
// every acknowledged write. It holds no timers and no timestamps, so no
// decision made from it depends on anybody's clock.
//
// The record changes only by compare-and-set on `version`; every change of
// role or of in_sync is one such change. The rules a proposed change must
// obey are in check_transition(), shared by every arbiter (witness, etcd).
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace failover::arbiter {

// A node as it was when it entered in_sync: its name and the identity of its
// disk. A node whose data_dir was wiped comes back with another storage_id and
// so is no longer the member the record names.
struct Member {
  std::string node;
  std::string storage_id;
  bool operator==(const Member&) const = default;
};

struct Record {
  std::string cluster_id;  // fixed when the cluster is created; a node refuses any other
  std::uint64_t version = 0;  // +1 on every change; the compare-and-set compares this
  std::uint64_t epoch = 0;    // +1 on every change of primary
  std::string primary;        // "" only before the first primary (epoch 0)
  std::vector<Member> in_sync;

  bool operator==(const Record&) const = default;
  // The member entry of `node`, or null when it is not in in_sync.
  const Member* member(const std::string& node) const;
  bool has_member(const std::string& node, const std::string& storage_id) const;
};

// JSON as the witness stores and serves it:
// {"cluster_id":"..","version":3,"epoch":2,"primary":"a","in_sync":[{"node":"a","storage_id":".."}]}
std::string to_json(const Record& record);
// kInvalid with what is wrong for anything that is not such an object.
core::Result<Record> record_from_json(std::string_view text);

// Whether `proposed` may follow `current`: its version is current.version + 1
// and it keeps cluster_id; the epoch never goes down; a change of primary
// raises the epoch; a raised epoch names a primary that was in
// `current.in_sync` with the same storage_id (except the first primary, from
// epoch 0), so only a node holding every acknowledged write is ever promoted;
// the primary is in in_sync; no node is twice in in_sync. kInvalid says which
// rule failed.
core::Result<void> check_transition(const Record& current, const Record& proposed);

}  // namespace failover::arbiter
