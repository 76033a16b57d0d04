#include "registry/service.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "core/config_error.h"
#include "net/endpoint.h"
#include "registry/api.h"
#include "registry/etcd_backend.h"
#include "registry/replication.h"
#include "role/endpoints.h"
#include "role/runner.h"

namespace failover::registry {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

asio::awaitable<void> run_ticks(Registry& registry, const core::Clock& clock, std::chrono::milliseconds every,
                                std::stop_token stop) {
  for (;;) {
    // One statement per co_await: GCC 12 miscompiles some inside a loop condition.
    const bool woke = co_await clock.sleep_until(clock.now() + every, stop);
    if (!woke) co_return;
    registry.advance();
  }
}

RegistryConfig load_config(const RegistryRunOptions& o) {
  RegistryConfig c = load_registry_config(o.config_path);
  if (o.listen) c.listen = *o.listen;
  if (o.token) c.token = *o.token;
  if (!net::resolve_endpoint(c.listen))
    throw core::ConfigError(c.source, 0, "cannot use address '" + c.listen + "' (want host:port)");
  return c;
}

int run(const RegistryRunOptions& options) {
  const RegistryConfig config = load_config(options);
  asio::io_context io{1};
  role::Runner runner(io, "registry");
  RegistryOptions registry_options = config.options;
  registry_options.mirror = config.backend.type == BackendType::kEtcd;  // etcd keeps the leases
  const core::Clock& clock = core::SteadyClock::instance();
  Registry registry(clock, registry_options);

  std::unique_ptr<Replication> replication;
  std::unique_ptr<Backend> backend;
  if (config.backend.type == BackendType::kEtcd) {
    auto etcd = std::make_unique<EtcdBackend>(io, registry, config, clock);
    etcd->start();
    backend = std::move(etcd);
  } else {
    backend = std::make_unique<EmbeddedBackend>(registry);
    if (!config.peers.empty()) {
      replication = std::make_unique<Replication>(io, config.peers, config.token, clock);
      registry.on_change = [r = replication.get()](const Change& c) { r->send(c); };
    }
  }
  Api api(clock, registry, *backend, config, replication.get());

  const role::Endpoints endpoints{
      .status = [&] { return status_json(registry, api, *backend, config, replication.get()); },
      .metrics = [&](core::MetricsWriter& w) { metrics(w, registry, api, replication.get()); }};
  auto handler = [&](HttpRequest req) -> asio::awaitable<HttpResponse> {
    if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
    co_return co_await api.handle(std::move(req));
  };

  // A restarted node takes its peers' state before it answers anyone.
  if (replication) {
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      co_await replication->fill(registry, std::chrono::seconds(2));
    }, asio::detached);
    io.run();
    io.restart();
    replication->start();
  }

  net::HttpServerLimits limits;
  limits.max_body_size = config.max_body_size;
  limits.idle_timeout = config.max_wait + std::chrono::seconds(60);  // a watcher stays connected
  limits.max_connections = 65'536;
  if (!runner.listen(config.listen, [&] { net::serve_http(io, *net::resolve_endpoint(config.listen), handler, limits); }))
    return role::kExitListenError;
  asio::co_spawn(io, run_ticks(registry, clock, config.options.tick), asio::detached);
  spdlog::info("failover registry {} listening on {}, backend {}, {} peers", FAILOVER_VERSION,
               config.listen, backend->name(), config.peers.size());

  return runner.run();
}

}  // namespace failover::registry
