#include "lb/admin.h"

#include <boost/asio/awaitable.hpp>

#include "lb/control_loop.h"
#include "lb/worker.h"
#include "net/http_server.h"
#include "role/endpoints.h"

namespace failover::lb {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

namespace {

// Counters of the whole process, beside Control's per-server ones.
void process_metrics(core::MetricsWriter& w, const WorkerShared& shared) {
  w.counter("failover_lb_requests_total", "Client requests read.", {}, shared.requests.load());
  w.counter("failover_lb_retries_total", "Attempts beyond the first.", {}, shared.retries.load());
  w.counter("failover_lb_no_server_total", "Requests refused with 503: no server available.", {},
            shared.no_server.load());
  w.gauge("failover_lb_client_connections", "Open client connections.", {}, shared.client_connections.load());
  constexpr std::string_view kWorker = "Open client connections per worker thread.";
  w.family("failover_lb_worker_connections", core::MetricType::kGauge, kWorker);
  for (const Worker* wk : shared.workers)
    w.gauge("failover_lb_worker_connections", kWorker, {{"worker", std::to_string(wk->index())}}, wk->connections());
}

// POST /upstreams/{name}/servers/{address}/{down|drain|up}
HttpResponse admin_action(ControlLoop& control, std::string_view path) {
  constexpr std::string_view kPrefix = "/upstreams/";
  path.remove_prefix(kPrefix.size());
  const auto servers = path.find("/servers/");
  const auto last = path.rfind('/');
  if (servers == std::string_view::npos || last <= servers + 8)
    return HttpResponse::error(404, "want /upstreams/{name}/servers/{address}/down|drain|up");
  const std::string_view name = path.substr(0, servers);
  const std::string_view address = path.substr(servers + 9, last - servers - 9);
  const std::string_view action = path.substr(last + 1);
  AdminState state;
  if (action == "down") state = AdminState::kDown;
  else if (action == "drain") state = AdminState::kDrain;
  else if (action == "up") state = AdminState::kNone;
  else return HttpResponse::error(400, "action must be down, drain or up");
  if (!control.set_admin(name, address, state))
    return HttpResponse::error(404, "no server " + std::string(address) + " in upstream " + std::string(name));
  return HttpResponse::json(200, "{\"upstream\":" + net::json_quote(name) + ",\"server\":" +
                                     net::json_quote(address) + ",\"admin\":\"" +
                                     admin_state_name(state) + "\"}\n");
}

}  // namespace

void serve_admin(asio::io_context& control_io, const asio::ip::tcp::endpoint& admin,
                 ControlLoop& control, const WorkerShared& shared) {
  role::Endpoints endpoints{
      .status = [&control] { return control.status_json(); },
      .metrics = [&control, &shared](core::MetricsWriter& w) {
        process_metrics(w, shared);
        control.metrics(w);
      }};
  net::serve_http(control_io, admin, [&control, endpoints](HttpRequest req) -> asio::awaitable<HttpResponse> {
    if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
    if (req.method == "GET" || req.method == "HEAD") co_return HttpResponse::error(404, "not found: " + req.path);
    if (req.method == "POST" && req.path.starts_with("/upstreams/"))
      co_return admin_action(control, req.path);
    co_return HttpResponse::error(405, "method not allowed");
  });
}

}  // namespace failover::lb
