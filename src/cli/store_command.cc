#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/config_error.h"
#include "store/config.h"
#include "store/service.h"

namespace failover::cli {

// failover store --config FILE
// failover store switchover --config FILE --to NODE
Run store_options(CLI::App& sub) {
  struct Options {
    std::string path, switchover_config, to;
  };
  auto o = std::make_shared<Options>();
  sub.require_subcommand(0, 1);
  // Not ->required(): `store switchover --config F` gives its own.
  sub.add_option("-c,--config", o->path, "YAML config with a store: section");
  CLI::App* sw = sub.add_subcommand(
      "switchover", "Hand the primary role to NODE: nothing lost, writes paused until it holds every entry");
  sw->add_option("-c,--config", o->switchover_config, "the config of any node of the pair")->required();
  sw->add_option("--to", o->to, "the in-sync backup to become primary")->required();
  Run serve = [o] {
    if (o->path.empty()) {
      std::cerr << "store: --config FILE is required\n";
      return core::kExitConfigError;
    }
    return store::run(o->path);
  };
  Run run = check_or_run(sub, o->path, [o] { store::load_store_config(o->path); }, serve);
  return [o, sw, run] { return sw->parsed() ? store::switchover(o->switchover_config, o->to) : run(); };
}

}  // namespace failover::cli
