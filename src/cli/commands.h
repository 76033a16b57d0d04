#pragma once
// The subcommands of `failover`. main.cc keeps them in one table (name,
// description, the function below that adds the options); adding a role
// is one function here and one row there.
#include <CLI/App.hpp>
#include <functional>
#include <string>

namespace failover::cli {

// What runs once the subcommand was chosen and parsed: the exit status.
// It may throw core::ConfigError (main prints it and exits 2).
using Run = std::function<int()>;

// Each adds its options to `sub` (the subcommand main made from the table)
// and returns what runs.
Run lb_options(CLI::App& sub);        // lb_command.cc
Run registry_options(CLI::App& sub);  // registry_command.cc
Run agent_options(CLI::App& sub);     // agent_command.cc
Run dns_options(CLI::App& sub);       // dns_command.cc
Run resolve_options(CLI::App& sub);   // resolve_command.cc
Run get_options(CLI::App& sub);       // resolve_command.cc
Run store_options(CLI::App& sub);     // store_command.cc
Run witness_options(CLI::App& sub);   // witness_command.cc
Run kv_options(CLI::App& sub);        // kv_command.cc
Run proxy_options(CLI::App& sub);     // proxy_command.cc
Run up_options(CLI::App& sub);        // up_command.cc
Run drill_options(CLI::App& sub);     // drill_command.cc
Run check_history_options(CLI::App& sub);  // check_history_command.cc
Run demo_service_options(CLI::App& sub);  // demo_command.cc

// -t/--check-config, which every role has: with it, the run loads the
// config with `check` (a bad one throws ConfigError: exit 2) and says
// "config PATH is valid"; without it, the run is `run`.
Run check_or_run(CLI::App& sub, const std::string& config_path, std::function<void()> check, Run run);

}  // namespace failover::cli
