#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "arbiter/witness_config.h"
#include "arbiter/witness_service.h"
#include "cli/commands.h"
#include "core/config_error.h"

namespace failover::cli {

// failover witness --config FILE
// failover witness init --config FILE [--force]
// failover witness recover --config FILE --from URL[,URL...]
Run witness_options(CLI::App& sub) {
  struct Options {
    std::string config_path, init_config, recover_config;
    bool force = false;
    std::vector<std::string> from;
  };
  auto o = std::make_shared<Options>();
  sub.require_subcommand(0, 1);
  // Not ->required(): `witness recover --config F` gives its own.
  sub.add_option("-c,--config", o->config_path, "YAML config with a witness: section");

  CLI::App* init = sub.add_subcommand("init", "Write a new cluster's record (refused when one exists)");
  init->add_option("-c,--config", o->init_config, "YAML config with a witness: section")->required();
  init->add_flag("--force", o->force, "replace an existing record (the nodes will refuse the new cluster)");

  CLI::App* recover = sub.add_subcommand(
      "recover", "Rebuild the record from the store nodes' /status (the newest record any of them saw)");
  recover->add_option("-c,--config", o->recover_config, "YAML config with a witness: section")->required();
  recover->add_option("--from", o->from, "store node URLs, http://host:port, comma-separated")
      ->required()
      ->delimiter(',');

  Run serve = [o] {
    if (o->config_path.empty()) {
      std::cerr << "witness: --config FILE is required\n";
      return core::kExitConfigError;
    }
    return arbiter::run_witness(o->config_path);
  };
  Run run = check_or_run(sub, o->config_path, [o] { arbiter::load_witness_config(o->config_path); }, serve);
  return [o, init, recover, run] {
    if (init->parsed()) return arbiter::init_witness(o->init_config, o->force);
    if (recover->parsed()) return arbiter::recover_witness(o->recover_config, o->from);
    return run();
  };
}

}  // namespace failover::cli
