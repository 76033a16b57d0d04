#pragma once
// `failover lb`: the process around the proxy — threads, signals (SIGHUP
// reloads, SIGTERM drains), the admin API.
#include <optional>
#include <string>

#include "lb/config.h"

namespace failover::lb {

struct LbOptions {
  std::string config_path;
  bool nginx = false;                 // config_path is an nginx file
  std::optional<std::string> listen;  // overrides of the file
  std::optional<std::string> admin;
  std::optional<int> threads;
};

// Loads the config the options name, with the overrides applied. Throws
// core::ConfigError.
LbConfig load_config(const LbOptions& options);

// Runs until SIGTERM/SIGINT; returns the process exit status.
int run(const LbOptions& options);

}  // namespace failover::lb
