#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"

namespace failover::cli {

Run check_or_run(CLI::App& sub, const std::string& config_path, std::function<void()> check, Run run) {
  auto check_only = std::make_shared<bool>(false);
  sub.add_flag("-t,--check-config", *check_only, "validate the config and exit (0 good, 2 bad)");
  return [check_only, &config_path, check = std::move(check), run = std::move(run)]() -> int {
    if (!*check_only) return run();
    check();
    std::cout << "config " << config_path << " is valid\n";
    return 0;
  };
}

}  // namespace failover::cli
