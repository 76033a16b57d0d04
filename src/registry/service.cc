#include "registry/service.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <spdlog/spdlog.h>

#include "core/config_error.h"
#include "net/endpoint.h"
#include "registry/api.h"
#include "registry/etcd_backend.h"
#include "registry/replication.h"

namespace failover::registry {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

namespace {

// Renders /status every second.
constexpr std::string_view kDashboard = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>failover registry</title>
<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}
.ok{color:#070}.bad{color:#b00}</style></head>
<body><h1>failover registry</h1><div id="s"></div><script>
async function tick(){const s=await (await fetch('/status')).json();
let h=`<p>backend ${s.backend}, index ${s.index}</p><table><tr><th>service</th><th>instances</th><th>healthy</th><th>index</th></tr>`;
for(const v of s.services)h+=`<tr><td><a href="/v1/services/${v.name}?all=1">${v.name}</a></td><td>${v.instances}</td>
<td class="${v.healthy==v.instances?'ok':'bad'}">${v.healthy}${v.protected?' (protected)':''}</td><td>${v.index}</td></tr>`;
h+='</table><h2>peers</h2><table>';for(const p of s.peers)h+=`<tr><td>${p.url}</td>
<td class="${p.reachable?'ok':'bad'}">${p.reachable?'reachable':'unreachable'}</td><td>${p.pending} pending</td></tr>`;
document.getElementById('s').innerHTML=h+'</table>'}
tick();setInterval(tick,1000);</script></body></html>
)";

// Expiries run off one timer at the wheel's resolution.
asio::awaitable<void> tick(Registry& registry, std::chrono::milliseconds every) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    registry.advance();
  }
}

}  // namespace

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
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io{1};
  RegistryOptions registry_options = config.options;
  registry_options.mirror = config.backend.type == BackendType::kEtcd;  // etcd keeps the leases
  Registry registry(core::SteadyClock::instance(), registry_options);

  std::unique_ptr<Replication> replication;
  std::unique_ptr<Backend> backend;
  if (config.backend.type == BackendType::kEtcd) {
    auto etcd = std::make_unique<EtcdBackend>(io, registry, config);
    etcd->start();
    backend = std::move(etcd);
  } else {
    backend = std::make_unique<EmbeddedBackend>(registry);
    if (!config.peers.empty()) {
      replication = std::make_unique<Replication>(io, config.peers, config.token);
      registry.on_change = [r = replication.get()](const Change& c) { r->send(c); };
    }
  }
  Api api(io.get_executor(), registry, *backend, config, replication.get());

  auto handler = [&](HttpRequest req) -> asio::awaitable<HttpResponse> {
    if (req.method == "GET" && req.path == "/status")
      co_return HttpResponse::json(200, status_json(registry, api, *backend, config, replication.get()));
    if (req.method == "GET" && req.path == "/metrics") {
      co_return HttpResponse::metrics(metrics_text(registry, api, replication.get()));
    }
    if (req.method == "GET" && req.path == "/") {
      co_return HttpResponse::html(std::string(kDashboard));
    }
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
  try {
    net::serve_http(io, *net::resolve_endpoint(config.listen), handler, limits);
  } catch (const boost::system::system_error& e) {
    spdlog::critical("cannot listen on {}: {}", config.listen, e.what());
    return 1;
  }
  asio::co_spawn(io, tick(registry, config.options.tick), asio::detached);
  spdlog::info("failover registry {} listening on {}, backend {}, {} peers", FAILOVER_VERSION,
               config.listen, backend->name(), config.peers.size());

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) spdlog::info("signal {}: stopping", sig);
    io.stop();
  });
  io.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace failover::registry
