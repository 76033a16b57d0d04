#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "store/config.h"
#include "store/service.h"

namespace failover::cli {

Run store_options(CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  sub.add_option("-c,--config", *path, "YAML config with a store: section")->required();
  return check_or_run(
      sub, *path, [path] { store::load_store_config(*path); }, [path] { return store::run(*path); });
}

}  // namespace failover::cli
