#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "drill/proxy_service.h"

namespace failover::cli {

// failover proxy --listen ADDR --upstream ADDR --admin ADDR [--fault F] [--name N] [--seed S]
Run proxy_options(CLI::App& sub) {
  auto o = std::make_shared<drill::ProxyOptions>();
  sub.add_option("--listen", o->listen, "host:port that clients connect to")->required();
  sub.add_option("--upstream", o->upstream, "host:port it forwards to")->required();
  sub.add_option("--admin", o->admin, "host:port of GET /faults, PUT /faults/NAME, /status, /metrics")->required();
  sub.add_option("--fault", o->fault, "the fault at start: none, 'delay 100ms', 'drop 0.3', blackhole, half-open")
      ->capture_default_str();
  sub.add_option("--name", o->name, "its name in /faults and /metrics")->capture_default_str();
  sub.add_option("--seed", o->seed, "seeds drop's draws, for a repeatable run")->capture_default_str();
  return [o] { return drill::run_proxy(*o); };
}

}  // namespace failover::cli
