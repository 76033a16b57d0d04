// failover: one binary, one subcommand per role, all in one table.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string_view>
#include <vector>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "core/config_error.h"

namespace failover::cli {
namespace {

struct CommandEntry {
  const char* name;
  const char* description;
  Run (*add_options)(CLI::App& sub);
};

// In the order of `failover help`. A new role is one row.
constexpr CommandEntry kCommands[] = {
    {"lb", "HTTP load balancer with active and passive health checks", lb_options},
    {"registry", "Service registry: instances register and heartbeat, missed heartbeats evict", registry_options},
    {"agent", "Sidecar: checks local services and heartbeats for them to the registry", agent_options},
    {"dns", "HTTPDNS and DNS that answer only healthy load balancers", dns_options},
    {"store", "Replicated primary/backup key-value store over HTTP; fails over through the witness",
     store_options},
    {"witness", "The store's arbiter: keeps one durable record of who is primary; init and recover",
     witness_options},
    {"resolve", "Resolve HOST through HTTPDNS (cache, failover, system fallback); print the JSON answer",
     resolve_options},
    {"get", "GET an http:// URL through the resolver: random IP, retry the others; body to stdout", get_options},
    {"kv", "The store's keys: get, put, delete, list against its nodes, following the primary", kv_options},
    {"proxy", "TCP proxy that puts a fault on a link: delay, drop, blackhole, half-open (set at run time)",
     proxy_options},
    {"up", "The whole stack from one cluster file: every component as a child process, and its dashboard",
     up_options},
    {"drill", "Start the stack, drive load through it, kill and hang one part of each layer; report and judge",
     drill_options},
    {"check-history", "Is a history of reads and writes (JSON lines) linearizable, each key a register?",
     check_history_options},
    {"demo-service", "The example service of `up`: GET and PUT /kv/KEY through the store, saying who served",
     demo_service_options},
};

}  // namespace
}  // namespace failover::cli

int main(int argc, char** argv) {
  using namespace failover;
  CLI::App app{"failover: keeps a web service available when any part of it dies.\n"
               "Detects failed nodes, moves their traffic to healthy ones, brings them back."};
  app.name("failover");
  app.set_version_flag("--version", std::string("failover ") + FAILOVER_VERSION);
  app.require_subcommand(0, 1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  struct Added {
    CLI::App* sub;
    cli::Run run;
  };
  std::vector<Added> commands;
  for (const cli::CommandEntry& c : cli::kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    commands.push_back({sub, c.add_options(*sub)});
  }
  CLI::App* help = app.add_subcommand("help", "Show this help");

  // CLI11 would print the help of the `help` subcommand itself once parsed.
  if (argc == 1 || (argc == 2 && std::string_view(argv[1]) == "help")) {
    std::cout << app.help();
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; every real one
    // exits 2, as a bad config does, so scripts need to know one code.
    return app.exit(e) == 0 ? 0 : core::kExitConfigError;
  }
  if (help->parsed()) {  // "help lb" and the like
    std::cout << app.help();
    return 0;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("failover"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  try {
    for (const Added& c : commands)
      if (c.sub->parsed()) return c.run();
  } catch (const core::ConfigError& e) {
    std::cerr << e.what() << '\n';
    return core::kExitConfigError;
  }
  return 0;
}
