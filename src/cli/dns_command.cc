#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "dns/service.h"

namespace failover::cli {

Command add_dns_command(CLI::App& app) {
  auto* sub = app.add_subcommand("dns", "HTTPDNS and DNS that answer only healthy load balancers");
  auto opts = std::make_shared<dns::DnsRunOptions>();
  auto check_only = std::make_shared<bool>(false);
  sub->add_option("-c,--config", opts->config_path, "YAML config with a dns: section")->required();
  sub->add_option("--http-listen", opts->http_listen, "address of HTTPDNS (/d), /status and /metrics, host:port");
  sub->add_option("--dns-listen", opts->dns_listen, "address of the DNS responder (UDP and TCP), host:port");
  sub->add_option("--threads", opts->threads, "UDP responder threads (default: one per core)")->check(CLI::Range(1, 256));
  sub->add_flag("-t,--check-config", *check_only, "validate the config and exit (0 good, 2 bad)");
  return {sub, [opts, check_only]() -> int {
            if (*check_only) {
              dns::load_config(*opts);
              std::cout << "config " << opts->config_path << " is valid\n";
              return 0;
            }
            return dns::run(*opts);
          }};
}

}  // namespace failover::cli
