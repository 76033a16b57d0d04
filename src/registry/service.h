#pragma once
// `failover registry`: the process around the Registry — its io thread, the
// HTTP API with /status, /metrics and a dashboard, the lease tick, peers or
// the etcd backend, signals.
#include <optional>
#include <string>

#include "registry/config.h"

namespace failover::registry {

struct RegistryRunOptions {
  std::string config_path;
  std::optional<std::string> listen;  // overrides of the file
  std::optional<std::string> token;
};

// Throws core::ConfigError.
RegistryConfig load_config(const RegistryRunOptions& options);

// Runs until SIGTERM/SIGINT; returns the process exit status.
int run(const RegistryRunOptions& options);

}  // namespace failover::registry
