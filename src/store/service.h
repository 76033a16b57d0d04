#pragma once
// `failover store --config FILE`: one store node as a process.
#include <string>

namespace failover::store {

// Runs the node until SIGTERM/SIGINT; the exit status. Throws
// core::ConfigError for a bad config (exit 2).
int run(const std::string& config_path);

}  // namespace failover::store
