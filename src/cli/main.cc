// failover: one binary, one subcommand per role.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string_view>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "core/config_error.h"

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

  cli::Command lb = cli::add_lb_command(app);
  cli::Command registry = cli::add_registry_command(app);
  cli::Command agent = cli::add_agent_command(app);
  cli::Command dns = cli::add_dns_command(app);
  cli::Command resolve = cli::add_resolve_command(app);
  cli::Command get = cli::add_get_command(app);
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
    for (const cli::Command* c : {&lb, &registry, &agent, &dns, &resolve, &get})
      if (c->app->parsed()) return c->run();
  } catch (const core::ConfigError& e) {
    std::cerr << e.what() << '\n';
    return core::kExitConfigError;
  }
  return 0;
}
