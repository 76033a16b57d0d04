#include <CLI/CLI.hpp>
#include <memory>

#include "agent/agent.h"
#include "cli/commands.h"

namespace failover::cli {

Run agent_options(CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  sub.add_option("-c,--config", *path, "YAML config with an agent: section")->required();
  return check_or_run(
      sub, *path, [path] { agent::load_agent_config(*path); }, [path] { return agent::run(*path); });
}

}  // namespace failover::cli
