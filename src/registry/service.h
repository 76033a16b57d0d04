#pragma once
// `failover registry`: the process around the Registry — its io thread, the
// HTTP API with /status, /metrics and a dashboard, the lease tick, peers or
// the etcd backend, signals.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <stop_token>
#include <string>

#include "core/clock.h"
#include "registry/config.h"
#include "registry/registry.h"

namespace failover::registry {

struct RegistryRunOptions {
  std::string config_path;
  std::optional<std::string> listen;  // overrides of the file
  std::optional<std::string> token;
};

// Throws core::ConfigError.
RegistryConfig load_config(const RegistryRunOptions& options);

// The lease tick: registry.advance() every `every` on `clock` (the
// registry's own, so expiries follow the time it reads) until `stop`.
// Expiries run off this one loop at the wheel's resolution.
boost::asio::awaitable<void> run_ticks(Registry& registry, const core::Clock& clock,
                                       std::chrono::milliseconds every, std::stop_token stop = {});

// Runs until SIGTERM/SIGINT; returns the process exit status.
int run(const RegistryRunOptions& options);

}  // namespace failover::registry
