#pragma once
// Who this node's storage is, kept in data_dir/meta.json:
//   {"storage_id":"9f0c...","cluster_id":"...","highest_epoch":7}
// storage_id is made once, when the data dir is new, and names this copy of
// the data: the arbiter's in_sync list records it, so a node whose disk was
// wiped (a new storage_id) can never be promoted on the strength of data it
// no longer has. highest_epoch is the highest epoch the node has seen; a
// record of a lower epoch is refused (DESIGN.md, "The stateful protocol").
#include <cstdint>
#include <string>

#include "core/result.h"
#include "store/file_system.h"

namespace failover::store {

struct NodeMeta {
  std::string storage_id;
  std::string cluster_id;  // empty until the node joins a cluster
  uint64_t highest_epoch = 0;
  bool operator==(const NodeMeta&) const = default;
};

inline constexpr const char* kMetaFile = "meta.json";

// Reads data_dir/meta.json. When there is none and data_dir is empty (or
// missing), creates data_dir and a meta.json with a new random storage_id
// (128 bits, 32 hex digits) and saves it before returning. Call it before
// anything else writes into data_dir.
// Errors: kInvalid when data_dir holds other files but no meta.json (data
// without its identity: someone deleted it; refuse rather than pose as a
// new node with old data) or when meta.json is unreadable; I/O errors.
core::Result<NodeMeta> load_or_create(FileSystem& fs, const Path& data_dir);

// Writes data_dir/meta.json atomically and durably (write_file_atomically).
core::Result<void> save(FileSystem& fs, const Path& data_dir, const NodeMeta& meta);

// 32 lowercase hex digits from std::random_device.
std::string new_storage_id();

}  // namespace failover::store
