#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "dns/service.h"

namespace failover::cli {

Run dns_options(CLI::App& sub) {
  auto opts = std::make_shared<dns::DnsRunOptions>();
  sub.add_option("-c,--config", opts->config_path, "YAML config with a dns: section")->required();
  sub.add_option("--http-listen", opts->http_listen, "address of HTTPDNS (/d), /status, /metrics and the dashboard, host:port");
  sub.add_option("--dns-listen", opts->dns_listen, "address of the DNS responder (UDP and TCP), host:port");
  sub.add_option("--threads", opts->threads, "UDP responder threads (default: one per core)")->check(CLI::Range(1, 256));
  return check_or_run(
      sub, opts->config_path, [opts] { dns::load_config(*opts); }, [opts] { return dns::run(*opts); });
}

}  // namespace failover::cli
