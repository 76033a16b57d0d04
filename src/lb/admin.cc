#include "lb/admin.h"

#include <boost/asio/awaitable.hpp>

#include "lb/control_loop.h"
#include "lb/worker.h"
#include "net/http_server.h"

namespace failover::lb {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

namespace {

// A page that renders /status every second; enough to watch a failover.
constexpr std::string_view kDashboard = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>failover lb</title>
<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}
.up{color:#070}.down{color:#b00}.drain{color:#a60}</style></head>
<body><h1>failover lb</h1><div id="u"></div><script>
async function tick(){const s=await (await fetch('/status')).json();let h='';
for(const u of s.upstreams){h+=`<h2>${u.name} (${u.balance})${u.panic?' PANIC':''}</h2><table>
<tr><th>server</th><th>state</th><th>why</th><th>active</th><th>total</th><th>failures</th></tr>`;
for(const v of u.servers)h+=`<tr><td>${v.address}${v.backup?' (backup)':''}</td><td class="${v.state}">${v.state}</td>
<td>${v.reason}</td><td>${v.requests.active}</td><td>${v.requests.total}</td><td>${v.requests.failures}</td></tr>`;
h+='</table>'}document.getElementById('u').innerHTML=h}
tick();setInterval(tick,1000);</script></body></html>
)";

std::string worker_metrics(const WorkerShared& shared) {
  std::string out =
      "# HELP failover_lb_worker_connections Open client connections per worker thread.\n"
      "# TYPE failover_lb_worker_connections gauge\n";
  for (const Worker* w : shared.workers)
    out += "failover_lb_worker_connections{worker=\"" + std::to_string(w->index()) + "\"} " +
           std::to_string(w->connections()) + "\n";
  return out;
}

std::string global_metrics(const WorkerShared& shared) {
  return "# HELP failover_lb_requests_total Client requests read.\n# TYPE failover_lb_requests_total counter\n"
         "failover_lb_requests_total " + std::to_string(shared.requests.load()) +
         "\n# HELP failover_lb_retries_total Attempts beyond the first.\n# TYPE failover_lb_retries_total counter\n"
         "failover_lb_retries_total " + std::to_string(shared.retries.load()) +
         "\n# HELP failover_lb_no_server_total Requests refused with 503: no server available.\n# TYPE failover_lb_no_server_total counter\n"
         "failover_lb_no_server_total " + std::to_string(shared.no_server.load()) +
         "\n# HELP failover_lb_client_connections Open client connections.\n# TYPE failover_lb_client_connections gauge\n"
         "failover_lb_client_connections " + std::to_string(shared.client_connections.load()) + "\n" +
         worker_metrics(shared);
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
  net::serve_http(control_io, admin, [&control, &shared](HttpRequest req) -> asio::awaitable<HttpResponse> {
    if (req.method == "GET" || req.method == "HEAD") {
      if (req.path == "/status") co_return HttpResponse::json(200, control.status_json());
      if (req.path == "/metrics") {
        co_return HttpResponse::metrics(global_metrics(shared) + control.metrics_text());
      }
      if (req.path == "/") {
        co_return HttpResponse::html(std::string(kDashboard));
      }
      co_return HttpResponse::error(404, "not found: " + req.path);
    }
    if (req.method == "POST" && req.path.starts_with("/upstreams/"))
      co_return admin_action(control, req.path);
    co_return HttpResponse::error(405, "method not allowed");
  });
}

}  // namespace failover::lb
