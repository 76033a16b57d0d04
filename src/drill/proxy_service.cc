#include "drill/proxy_service.h"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <spdlog/spdlog.h>

#include "core/config_error.h"
#include "drill/fault_proxy.h"
#include "drill/proxy_admin.h"
#include "net/endpoint.h"
#include "role/endpoints.h"
#include "role/runner.h"

namespace failover::drill {
namespace asio = boost::asio;

int run_proxy(const ProxyOptions& o) {
  core::Result<Fault> fault = parse_fault(o.fault);
  if (!fault) {
    std::cerr << "proxy: --fault: " << fault.error().message << '\n';
    return core::kExitConfigError;
  }
  for (const auto& [flag, value] : {std::pair{"--listen", o.listen}, {"--upstream", o.upstream}, {"--admin", o.admin}})
    if (!net::resolve_endpoint(value)) {
      std::cerr << "proxy: " << flag << ": '" << value << "' is not host:port\n";
      return core::kExitConfigError;
    }
  asio::io_context io{1};
  role::Runner runner(io, "proxy");
  FaultProxy proxy(io.get_executor(), core::SteadyClock::instance(), o.upstream, o.seed);
  proxy.set(*fault);
  ProxyAdmin admin;
  admin.add(o.name, proxy);
  const role::Endpoints endpoints{
      .status =
          [&] {
            boost::json::object s{{"role", "proxy"}, {"version", FAILOVER_VERSION}};
            s["proxies"] = boost::json::parse(admin.faults_json());
            return boost::json::serialize(s) + "\n";
          },
      .metrics = [&](core::MetricsWriter& w) { admin.metrics(w); }};
  auto handler = [&](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
    if (auto r = admin.handle(req)) co_return std::move(*r);
    if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
    co_return net::HttpResponse::error(404, "no such path: GET /faults, PUT /faults/NAME, /status, /metrics, /");
  };
  if (!runner.listen(o.listen, [&] { proxy.listen(*net::resolve_endpoint(o.listen)); })) return role::kExitListenError;
  if (!runner.listen(o.admin, [&] { net::serve_http(io, *net::resolve_endpoint(o.admin), handler); }))
    return role::kExitListenError;
  proxy.start();
  spdlog::info("failover proxy {} {}: {} -> {}, fault {}, admin on {}", FAILOVER_VERSION, o.name, o.listen, o.upstream,
               to_string(*fault), o.admin);
  return runner.run();
}

}  // namespace failover::drill
