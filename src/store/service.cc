#include "store/service.h"

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include "arbiter/etcd_arbiter.h"
#include "arbiter/witness_client.h"
#include "net/endpoint.h"
#include "role/endpoints.h"
#include "role/runner.h"
#include "store/file_system.h"
#include "store/node.h"

namespace failover::store {
namespace asio = boost::asio;

int run(const std::string& config_path) {
  StoreConfig config = load_store_config(config_path);
  asio::io_context io{1};
  role::Runner runner(io, "store");
  const core::Clock& clock = core::SteadyClock::instance();
  std::unique_ptr<arbiter::Arbiter> arbiter;
  if (config.arbiter_type == "etcd")
    arbiter = std::make_unique<arbiter::EtcdArbiter>(io.get_executor(), config.arbiter_endpoints, config.arbiter_key,
                                                     config.arbiter_timeout);
  else
    arbiter = std::make_unique<arbiter::WitnessClient>(io.get_executor(), config.arbiter_address,
                                                       config.arbiter_timeout, clock);
  StoreNode node(io, config, clock, posix_file_system(), std::move(arbiter));
  if (core::Result<void> opened = node.open(); !opened) {
    spdlog::critical("store: cannot open {}: {}", config.data_dir, opened.error().to_string());
    return 1;
  }

  const role::Endpoints endpoints{.status = [&] { return node.status_json(); },
                                  .metrics = [&](core::MetricsWriter& w) { node.metrics(w); }};
  auto handler = [&](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
    if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
    std::optional<net::HttpResponse> answer = co_await node.handle(req);
    if (answer) co_return std::move(*answer);
    co_return net::HttpResponse::error(404, "no such path: try /kv/KEY, /primary, /replica, /status, /metrics");
  };
  net::HttpServerLimits limits;
  // A value is at most 64 MiB; the server reads the whole body before the
  // node sees the request, so an upload cut short leaves nothing behind.
  limits.max_body_size = kMaxHttpValueBytes;
  limits.read_buffer_bytes = 16 * 1024;  // nginx's client_body_buffer_size: a thousand reads for 16 MiB
  limits.max_body_bytes_held = config.max_upload_bytes;
  if (!runner.listen(config.peer_listen, [&] { node.listen_peers(); })) return role::kExitListenError;
  if (!runner.listen(config.listen, [&] { net::serve_http(io, *net::resolve_endpoint(config.listen), handler, limits); }))
    return role::kExitListenError;
  node.start();
  runner.on_stop([&]() -> asio::awaitable<void> {
    node.stop();
    co_return;
  }, [] { return std::chrono::milliseconds(1000); });
  spdlog::info("failover store {} node {} listening on {} (replication {}), arbiter {}", FAILOVER_VERSION, config.node,
               config.listen, config.peer_listen, arbiter_name(config));
  return runner.run();
}

}  // namespace failover::store
