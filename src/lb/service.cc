#include "lb/service.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <thread>

#include "core/config_error.h"
#include "core/cpu_affinity.h"
#include "lb/admin.h"
#include "lb/control_loop.h"
#include "lb/discovery.h"
#include "lb/nginx_config.h"
#include "lb/worker.h"
#include "net/endpoint.h"
#include "net/listener.h"
#include "role/runner.h"

namespace failover::lb {

namespace asio = boost::asio;

LbConfig load_config(const LbOptions& o) {
  LbConfig c = o.nginx ? load_nginx_config(o.config_path) : load_lb_config(o.config_path);
  if (o.listen) c.listen = *o.listen;
  if (o.admin) c.admin = *o.admin;
  if (o.threads) c.threads = *o.threads;
  for (const auto* addr : {&c.listen, &c.admin})
    if (!net::resolve_endpoint(*addr))
      throw core::ConfigError(c.source, 0, "cannot use address '" + *addr + "' (want host:port)");
  for (const auto& up : c.upstreams)
    for (const auto& s : up.servers)
      if (!net::resolve_endpoint(s.address))
        throw core::ConfigError(c.source, s.line, "cannot resolve server address '" + s.address + "'");
  return c;
}

namespace {

int thread_count(const LbConfig& c) {
  if (c.threads > 0) return c.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

int run(const LbOptions& options) {
  LbConfig config = load_config(options);  // ConfigError goes to the caller: exit 2
  asio::io_context control_io{1};
  role::Runner runner(control_io, "lb");

  WorkerShared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  const int n = thread_count(config);
  for (int i = 0; i < n; ++i) workers.push_back(std::make_unique<Worker>(i, shared));
  for (auto& w : workers) shared.workers.push_back(w.get());

  ControlLoop control(control_io, core::SteadyClock::instance(),
                      [&workers](std::shared_ptr<const Snapshot> snap) {
                        for (auto& w : workers)
                          asio::post(w->io(), [w = w.get(), snap] { w->set_snapshot(snap); });
                      });
  shared.control_io = &control_io;
  shared.control = &control;
  for (const std::string& w : config.warnings) spdlog::warn("{}", w);
  control.apply(config);
  Discovery discovery(control_io, control, core::SteadyClock::instance());
  discovery.apply(config);

  const auto listen = *net::resolve_endpoint(config.listen);
  const auto admin = *net::resolve_endpoint(config.admin);
  if (!runner.listen(config.listen, [&] {
        net::ensure_address_free(listen);
        for (auto& w : workers) w->listen(listen);
      }) ||
      !runner.listen(config.admin, [&] { serve_admin(control_io, admin, control, shared); }))
    return role::kExitListenError;
  spdlog::info("failover lb {} listening on {} (admin {}), {} worker threads, {} upstreams",
               FAILOVER_VERSION, config.listen, config.admin, n, config.upstreams.size());

  runner.on_reload([&] {
    try {
      LbConfig next = load_config(options);
      for (const std::string& w : next.warnings) spdlog::warn("reload: {}", w);
      if (next.listen != control.config().listen || next.admin != control.config().admin)
        spdlog::warn("reload: listen and admin addresses change only on restart");
      next.listen = control.config().listen;
      next.admin = control.config().admin;
      control.apply(next);
      discovery.apply(next);
      spdlog::info("reload: new config in use ({} upstreams)", next.upstreams.size());
    } catch (const core::ConfigError& e) {
      spdlog::error("reload refused, the running config stays: {}", e.what());
    }
  });
  // SIGTERM: stop accepting, close idle keep-alive connections, let the
  // requests in flight finish within drain_timeout.
  runner.on_stop(
      [&]() -> asio::awaitable<void> {
        spdlog::info("draining, {} client connections open", shared.client_connections.load());
        for (auto& w : workers) w->drain();
        while (shared.client_connections.load() != 0)
          co_await core::SteadyClock::instance().sleep_for(std::chrono::milliseconds(20));
      },
      [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(control.config().drain_timeout); });
  for (int i = 0; i < n; ++i) {
    runner.add_thread(
        [w = workers[i].get(), i, n, mode = config.cpu_affinity] {
          if (const int cpu = core::pin_worker_thread(mode, i, n); cpu >= 0)
            spdlog::debug("worker {} pinned to CPU {}", i, cpu);
          w->run();
        },
        [w = workers[i].get()] { w->stop(); });
  }
  return runner.run();
}

}  // namespace failover::lb
