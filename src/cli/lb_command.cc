#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "lb/service.h"

namespace failover::cli {

Command add_lb_command(CLI::App& app) {
  auto* sub = app.add_subcommand("lb", "HTTP load balancer with active and passive health checks");
  auto opts = std::make_shared<lb::LbOptions>();
  auto check_only = std::make_shared<bool>(false);
  auto* config = sub->add_option("-c,--config", opts->config_path, "YAML config with an lb: section");
  auto* nginx = sub->add_option_function<std::string>(
      "--nginx", [opts](const std::string& path) { opts->config_path = path; opts->nginx = true; },
      "nginx file with upstream blocks (upstream check module syntax)");
  config->excludes(nginx);
  sub->add_option("--listen", opts->listen, "address for client traffic, host:port");
  sub->add_option("--admin", opts->admin, "address for /status, /metrics and admin actions");
  sub->add_option("--threads", opts->threads, "worker threads (default: one per core)")->check(CLI::Range(1, 256));
  sub->add_flag("-t,--check-config", *check_only, "validate the config and exit (0 good, 2 bad)");
  return {sub, [opts, check_only, sub]() -> int {
            if (opts->config_path.empty()) {
              std::cerr << "failover lb: --config FILE or --nginx FILE is required\n" << sub->help();
              return 2;
            }
            if (*check_only) {
              lb::load_config(*opts);
              std::cout << "config " << opts->config_path << " is valid\n";
              return 0;
            }
            return lb::run(*opts);
          }};
}

}  // namespace failover::cli
