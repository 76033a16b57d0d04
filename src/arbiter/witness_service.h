#pragma once
// `failover witness`: the process around Witness (its HTTP server, /status,
// /metrics, the dashboard, signals), and its two offline commands, init and
// recover, which write the record before the witness starts.
#include <string>
#include <vector>

namespace failover::arbiter {

// Exit status of a witness that cannot start or keep its record (a config
// error exits 2).
inline constexpr int kExitWitnessFailed = 1;

// Serves until SIGTERM/SIGINT; returns the exit status. On its first start
// (no DATA_DIR/record.json) it creates a new cluster's record. A failed
// write of the record ends the process (exit 1) before it answers.
// Throws core::ConfigError.
int run_witness(const std::string& config_path);

// Writes a new cluster's record; refuses (exit 1) when one exists, unless
// `force`. Throws core::ConfigError.
int init_witness(const std::string& config_path, bool force);

// Reads every node's /status (`node_urls`: http://host:port), and writes the
// newest record any of them saw, one version on (witness_recover.h). Exit 1
// when no node answered or they disagree on the cluster; warns on stderr for
// each node that did not answer. Run it while the witness is stopped.
// Throws core::ConfigError.
int recover_witness(const std::string& config_path, const std::vector<std::string>& node_urls);

}  // namespace failover::arbiter
