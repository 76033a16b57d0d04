#pragma once
#include <CLI/App.hpp>
#include <functional>

namespace failover::cli {

// A subcommand: its CLI11 parser and what runs when it was chosen.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

Command add_lb_command(CLI::App& app);
Command add_registry_command(CLI::App& app);
Command add_agent_command(CLI::App& app);
Command add_dns_command(CLI::App& app);
Command add_resolve_command(CLI::App& app);  // resolve_command.cc
Command add_get_command(CLI::App& app);      // resolve_command.cc

}  // namespace failover::cli
