#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/config_error.h"
#include "core/units.h"
#include "drill/cluster_config.h"
#include "drill/drill.h"

namespace failover::cli {

// failover drill --config cluster.yaml [--attach] [--faults LIST] [--seed N] [--clients N] [--json FILE] [--report FILE]
Run drill_options(CLI::App& sub) {
  auto o = std::make_shared<drill::DrillOptions>();
  sub.add_option("-c,--config", o->config, "the cluster file (see examples/cluster.yaml)")->required();
  sub.add_option("--faults", o->faults,
                 "ACTION:TARGET,... with ACTION kill, stop or a link fault through the target's proxy "
                 "(delay=500ms, drop=0.3, blackhole, half-open) and TARGET a component or 'primary' "
                 "(default: one per layer, then the proxied links)");
  sub.add_flag("--attach", o->attach,
               "drill the stack a running `failover up --config` of the same file serves, and leave it running");
  sub.add_option("--seed", o->seed, "makes the load and the choices repeatable")->capture_default_str();
  sub.add_option("--clients", o->clients, "concurrent clients")->capture_default_str()->check(CLI::Range(1, 256));
  auto deadline = std::make_shared<std::string>("5s");
  sub.add_option("--deadline", *deadline,
                 "a client request not answered within this (retries included) counts as failed")
      ->capture_default_str();
  sub.add_option("--json", o->json_path, "write the result as JSON to FILE ('-': stdout)");
  sub.add_option("--report", o->report_path, "write a self-contained HTML report to FILE");
  sub.add_option("--history", o->history_path, "write every read and write, one JSON object a line, to FILE");
  return check_or_run(
      sub, o->config, [o] { drill::load_cluster_config(o->config); },
      [o, deadline] {
        const auto d = core::parse_duration(*deadline);
        if (!d || d->count() == 0) {
          std::cerr << "failover drill: bad --deadline \"" << *deadline << "\" (e.g. 500ms, 5s)\n";
          return core::kExitConfigError;
        }
        o->deadline = *d;
        return drill::run_drill(*o);
      });
}

}  // namespace failover::cli
