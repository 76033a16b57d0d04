#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "registry/service.h"

namespace failover::cli {

Command add_registry_command(CLI::App& app) {
  auto* sub = app.add_subcommand("registry", "Service registry: instances register and heartbeat, missed heartbeats evict");
  auto opts = std::make_shared<registry::RegistryRunOptions>();
  auto check_only = std::make_shared<bool>(false);
  sub->add_option("-c,--config", opts->config_path, "YAML config with a registry: section")->required();
  sub->add_option("--listen", opts->listen, "address of the API, /status and /metrics, host:port");
  sub->add_option("--token", opts->token, "writes then need Authorization: Bearer TOKEN");
  sub->add_flag("-t,--check-config", *check_only, "validate the config and exit (0 good, 2 bad)");
  return {sub, [opts, check_only]() -> int {
            if (*check_only) {
              registry::load_config(*opts);
              std::cout << "config " << opts->config_path << " is valid\n";
              return 0;
            }
            return registry::run(*opts);
          }};
}

}  // namespace failover::cli
