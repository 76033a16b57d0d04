#pragma once
// `failover agent`: a sidecar that registers local services, probes each
// with the shared health checker and heartbeats for it only while it
// passes; deregisters on SIGTERM.
#include <string>

#include "agent/config.h"

namespace failover::agent {

// Runs until SIGTERM/SIGINT; returns the process exit status. Throws
// core::ConfigError for a bad file.
int run(const std::string& config_path);

}  // namespace failover::agent
