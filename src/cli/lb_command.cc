#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/config_error.h"
#include "lb/service.h"

namespace failover::cli {

Run lb_options(CLI::App& sub) {
  auto opts = std::make_shared<lb::LbOptions>();
  auto* config = sub.add_option("-c,--config", opts->config_path, "YAML config with an lb: section");
  auto* nginx = sub.add_option_function<std::string>(
      "--nginx", [opts](const std::string& path) { opts->config_path = path; opts->nginx = true; },
      "nginx file with upstream blocks (upstream check module syntax)");
  config->excludes(nginx);
  sub.add_option("--listen", opts->listen, "address for client traffic, host:port");
  sub.add_option("--admin", opts->admin, "address for /status, /metrics, the dashboard and admin actions");
  sub.add_option("--threads", opts->threads, "worker threads (default: one per core)")->check(CLI::Range(1, 256));
  Run run = check_or_run(
      sub, opts->config_path, [opts] { lb::load_config(*opts); }, [opts] { return lb::run(*opts); });
  // Either file will do, so neither option can be marked required.
  return [opts, run, sub = &sub]() -> int {
    if (opts->config_path.empty()) {
      std::cerr << "failover lb: --config FILE or --nginx FILE is required\n" << sub->help();
      return core::kExitConfigError;
    }
    return run();
  };
}

}  // namespace failover::cli
