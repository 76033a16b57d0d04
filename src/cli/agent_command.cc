#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "agent/agent.h"
#include "cli/commands.h"

namespace failover::cli {

Command add_agent_command(CLI::App& app) {
  auto* sub = app.add_subcommand("agent", "Sidecar: checks local services and heartbeats for them to the registry");
  auto path = std::make_shared<std::string>();
  auto check_only = std::make_shared<bool>(false);
  sub->add_option("-c,--config", *path, "YAML config with an agent: section")->required();
  sub->add_flag("-t,--check-config", *check_only, "validate the config and exit (0 good, 2 bad)");
  return {sub, [path, check_only]() -> int {
            if (*check_only) {
              agent::load_agent_config(*path);
              std::cout << "config " << *path << " is valid\n";
              return 0;
            }
            return agent::run(*path);
          }};
}

}  // namespace failover::cli
