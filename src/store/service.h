#pragma once
// `failover store --config FILE`: one store node as a process.
#include <string>

namespace failover::store {

// Runs the node until SIGTERM/SIGINT; the exit status. Throws
// core::ConfigError for a bad config (exit 2).
int run(const std::string& config_path);

// `failover store switchover --config FILE --to NODE`: asks whichever node
// is primary to hand its role to NODE and prints its answer; 0 when done,
// 1 when no node did it (each one's answer printed), 2 for a bad config.
int switchover(const std::string& config_path, const std::string& to);

}  // namespace failover::store
