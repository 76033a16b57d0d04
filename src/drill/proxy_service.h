#pragma once
// `failover proxy`: one fault proxy as a process, with its admin API
// (proxy_admin.h) and the role skeleton's /status, /metrics and / on the
// admin address.
#include <cstdint>
#include <string>

namespace failover::drill {

struct ProxyOptions {
  std::string name = "proxy";
  std::string listen;    // host:port clients connect to
  std::string upstream;  // host:port it forwards to
  std::string admin;     // host:port of the admin API
  std::string fault = "none";
  std::uint64_t seed = 1;
};

// Runs until SIGTERM or SIGINT; the exit status (2 for a bad option, such
// as a fault it cannot parse; 1 when it cannot listen).
int run_proxy(const ProxyOptions& options);

}  // namespace failover::drill
