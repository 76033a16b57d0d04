#pragma once
// `failover dns`: the process around the Zone — the control thread (probes,
// registry watches, the HTTPDNS API with /status, /metrics and a dashboard,
// DNS over TCP) and the UDP responder threads.
#include <optional>
#include <string>

#include "dns/config.h"

namespace failover::dns {

struct DnsRunOptions {
  std::string config_path;
  std::optional<std::string> http_listen;  // overrides of the file
  std::optional<std::string> dns_listen;
  std::optional<int> threads;
};

// Throws core::ConfigError.
DnsConfig load_config(const DnsRunOptions& options);

// Runs until SIGTERM/SIGINT; returns the process exit status.
int run(const DnsRunOptions& options);

}  // namespace failover::dns
