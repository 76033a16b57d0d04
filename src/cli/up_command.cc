#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "drill/cluster_config.h"
#include "drill/up_service.h"

namespace failover::cli {

// failover up --config cluster.yaml [-t]
Run up_options(CLI::App& sub) {
  auto o = std::make_shared<drill::UpOptions>();
  sub.add_option("-c,--config", o->config, "the cluster file (see examples/cluster.yaml)")->required();
  return check_or_run(
      sub, o->config, [o] { drill::load_cluster_config(o->config); }, [o] { return drill::run_up(*o); });
}

}  // namespace failover::cli
