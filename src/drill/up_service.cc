#include "drill/up_service.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <spdlog/spdlog.h>

#include "core/config_error.h"
#include "drill/stack.h"
#include "drill/stack_api.h"
#include "net/endpoint.h"
#include "role/endpoints.h"
#include "role/runner.h"

namespace failover::drill {
namespace asio = boost::asio;

namespace {

void print_table(const Stack& stack, std::chrono::milliseconds took) {
  std::printf("\n%-14s %-9s %7s  %-36s %s\n", "component", "kind", "pid", "listens", "dashboard");
  for (const ComponentPlan& p : stack.launcher().plan()) {
    std::string listens;
    for (const std::string& a : p.listens) listens += (listens.empty() ? "" : " ") + a;
    std::printf("%-14s %-9s %7d  %-36s http://%s/\n", p.name.c_str(), kind_name(p.kind),
                static_cast<int>(stack.launcher().state(p.name).pid), listens.c_str(), p.admin.c_str());
  }
  std::printf("\n%zu components serving after %lld ms. The whole stack: http://%s/  (Ctrl-C stops it)\n",
              stack.launcher().plan().size(), static_cast<long long>(took.count()),
              stack.config().dashboard.c_str());
  std::fflush(stdout);
}

}  // namespace

bool serve_stack_dashboard(asio::io_context& io, role::Runner& runner, Stack& stack) {
  const auto address = net::resolve_endpoint(stack.config().dashboard);
  // The handler outlives this call: it keeps what it needs by value.
  auto endpoints = std::make_shared<role::Endpoints>(
      role::Endpoints{.status = [&stack] { return stack.status_json(); },
                      .metrics = [&stack](core::MetricsWriter& w) {
                        stack.metrics(w);
                        stack.proxy_admin().metrics(w);
                      }});
  ProxyAdmin* faults = &stack.proxy_admin();
  Stack* controlled = &stack;
  auto handler = [endpoints, faults, controlled](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
    if (auto r = faults->handle(req)) co_return std::move(*r);
    auto control = co_await handle_stack_api(*controlled, req);
    if (control) co_return std::move(*control);
    if (auto r = role::serve_endpoints(req, *endpoints)) co_return std::move(*r);
    co_return net::HttpResponse::error(404, "no such path: /status, /metrics, /, GET /faults, PUT /faults/NAME, "
                                             "POST /components/NAME/kill|stop|cont|restart");
  };
  return runner.listen(stack.config().dashboard, [&] { net::serve_http(io, *address, handler); });
}

std::string this_binary() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("failover") : path.string();
}

int run_up(const UpOptions& o) {
  ClusterConfig config = load_cluster_config(o.config);
  asio::io_context io{1};
  role::Runner runner(io, "up");
  Stack stack(io.get_executor(), std::move(config), o.binary.empty() ? this_binary() : o.binary);
  if (!serve_stack_dashboard(io, runner, stack)) return role::kExitListenError;
  runner.on_stop([&]() -> asio::awaitable<void> { co_await stack.stop_all(); },
                 [&] { return Stack::kStopGrace * static_cast<int>(stack.launcher().plan().size() + 1); });

  int status = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const auto t0 = std::chrono::steady_clock::now();
        std::printf("failover up: starting %zu components of %s under %s\n", stack.launcher().plan().size(),
                    o.config.c_str(), stack.config().dir.c_str());
        std::fflush(stdout);
        auto started = co_await stack.start_all();
        if (!started) {
          std::cerr << "failover up: " << started.error().message << "\n";
          status = 1;
          co_await stack.stop_all();
          runner.stop();
          co_return;
        }
        print_table(stack, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0));
        co_await stack.watch();
      },
      asio::detached);
  const int ran = runner.run();
  return status ? status : ran;
}

}  // namespace failover::drill
