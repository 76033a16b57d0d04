#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "registry/service.h"

namespace failover::cli {

Run registry_options(CLI::App& sub) {
  auto opts = std::make_shared<registry::RegistryRunOptions>();
  sub.add_option("-c,--config", opts->config_path, "YAML config with a registry: section")->required();
  sub.add_option("--listen", opts->listen, "address of the API, /status, /metrics and the dashboard, host:port");
  sub.add_option("--token", opts->token, "writes then need Authorization: Bearer TOKEN");
  return check_or_run(
      sub, opts->config_path, [opts] { registry::load_config(*opts); }, [opts] { return registry::run(*opts); });
}

}  // namespace failover::cli
