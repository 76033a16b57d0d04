#pragma once
// `failover store` configuration (the `store:` section; docs/store.md).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/vip.h"

namespace failover::store {

struct PeerConfig {
  std::string listen;       // its client API (where a 307 sends clients)
  std::string peer_listen;  // its replication port
};

struct StoreConfig {
  std::string node;                 // this node's name, as the record and the peers know it
  std::string listen = "127.0.0.1:7001";
  std::string peer_listen = "127.0.0.1:7101";
  std::string data_dir;
  std::map<std::string, PeerConfig> peers;
  std::string arbiter_type = "witness";  // or "etcd"
  std::string arbiter_address;      // the witness, host:port
  std::vector<std::string> arbiter_endpoints;  // etcd: http://host:port of its members
  std::string arbiter_key;          // etcd: the key that holds the record (default /failover/store/default)
  std::chrono::milliseconds heartbeat_interval{50};
  std::chrono::milliseconds heartbeat_timeout{250};  // a backup's grace
  std::chrono::milliseconds lease{200};
  bool strict = false;
  // The preferred primary (set it on one node): once an in-sync backup for
  // preempt_hold_down without a break, it asks the primary for a switchover.
  bool preempt = false;
  std::chrono::milliseconds preempt_hold_down{30'000};
  // `notify:`: a shell command run on each change to that role ("primary",
  // "backup", "fenced"), with the old role, the new one and the epoch.
  std::map<std::string, std::string> notify;
  std::chrono::milliseconds write_timeout{2000};     // how long a write may wait to be committed
  // Below this much free space under data_dir the node takes no new writes
  // (507) and a primary hands its role to an in-sync backup; what is left
  // is the room for the role change itself (0: never).
  std::uint64_t min_free_disk = 64ull << 20;
  // The request bodies the node holds at once over all its HTTP
  // connections, from the first byte until the answer: over it a new upload
  // gets 503 + Retry-After before its body is sent (four 64 MiB values).
  std::uint64_t max_upload_bytes = 256ull << 20;
  // `vip: {address: 10.0.0.100/24, interface: eth0}`: held while serving as primary.
  std::optional<VipConfig> vip;
  std::chrono::milliseconds arbiter_timeout{500};    // one read or compare-and-set of the record
  // The log (`log:`): segment files of this size; once more than
  // 2 x keep_entries applied entries are in it, the state is flushed and the
  // oldest segments go, keeping at least keep_entries behind the applied
  // seq for a backup that is a little behind (one further back gets a
  // RocksDB checkpoint, as etcd's snapshot-count).
  std::uint64_t log_segment_bytes = 64ull << 20;
  std::uint64_t log_keep_entries = 100'000;
  std::string source;               // the file it came from
};

// Clocks may drift this much against each other while a lease runs, and this
// much more is kept as slack: lease <= timeout * (1 - drift) / (1 + drift) - slack.
inline constexpr double kMaxDrift = 0.02;
inline constexpr std::chrono::milliseconds kLeaseSlack{10};
// The longest lease that is safe with `timeout` as the backup's grace.
std::chrono::milliseconds max_safe_lease(std::chrono::milliseconds timeout);

// The arbiter as logs and /status name it: "127.0.0.1:7200" (the witness)
// or "etcd /failover/store/NAME".
inline std::string arbiter_name(const StoreConfig& c) {
  return c.arbiter_type == "etcd" ? "etcd " + c.arbiter_key : c.arbiter_address;
}

// Throws core::ConfigError ("file:line: what is wrong").
StoreConfig load_store_config(const std::string& path);
StoreConfig parse_store_config(const std::string& yaml_text, const std::string& file_name);

}  // namespace failover::store
