#include "drill/proxy_admin.h"

#include <boost/json.hpp>

#include "net/endpoint.h"

namespace failover::drill {
namespace json = boost::json;

namespace {
constexpr std::string_view kPrefix = "/faults/";

json::object to_object(const FaultProxy& proxy) {
  const FaultProxy::Stats s = proxy.stats();
  return json::object{{"listen", net::to_string(proxy.local_endpoint())},
                      {"upstream", proxy.upstream()},
                      {"fault", to_string(proxy.fault())},
                      {"connections", json::object{{"accepted", s.accepted},
                                                   {"open", s.open},
                                                   {"reset", s.reset},
                                                   {"upstream_failures", s.upstream_failures}}},
                      {"bytes", json::object{{"to_upstream", s.bytes_to_upstream}, {"to_client", s.bytes_to_client}}}};
}
}  // namespace

void ProxyAdmin::add(std::string name, FaultProxy& proxy) { proxies_[std::move(name)] = &proxy; }

FaultProxy* ProxyAdmin::find(const std::string& name) const {
  auto it = proxies_.find(name);
  return it == proxies_.end() ? nullptr : it->second;
}

std::string ProxyAdmin::faults_json() const {
  json::object o;
  for (const auto& [name, proxy] : proxies_) o[name] = to_object(*proxy);
  return json::serialize(o) + "\n";
}

std::optional<net::HttpResponse> ProxyAdmin::handle(const net::HttpRequest& req) {
  if (req.path == "/faults") {
    if (req.method != "GET") return net::HttpResponse::error(405, "GET /faults, or PUT /faults/NAME");
    return net::HttpResponse::json(200, faults_json());
  }
  if (!req.path.starts_with(kPrefix)) return std::nullopt;
  const std::string name = req.path.substr(kPrefix.size());
  FaultProxy* proxy = find(name);
  if (!proxy) return net::HttpResponse::error(404, "no proxy named '" + name + "'");
  if (req.method == "GET") return net::HttpResponse::json(200, json::serialize(to_object(*proxy)) + "\n");
  if (req.method != "PUT" && req.method != "POST") return net::HttpResponse::error(405, "GET or PUT /faults/NAME");
  core::Result<Fault> fault = parse_fault(req.body);
  if (!fault) return net::HttpResponse::error(400, fault.error().message);
  proxy->set(*fault);
  return net::HttpResponse::json(200, json::serialize(to_object(*proxy)) + "\n");
}

void ProxyAdmin::metrics(core::MetricsWriter& w) const {
  for (const auto& [name, proxy] : proxies_) {
    const FaultProxy::Stats s = proxy->stats();
    const std::string fault = to_string(proxy->fault());
    w.gauge("failover_proxy_fault", "1 for the fault set on the proxy now", {{"proxy", name}, {"fault", fault}}, 1);
    w.counter("failover_proxy_connections_total", "Connections accepted from clients", {{"proxy", name}}, s.accepted);
    w.gauge("failover_proxy_open_connections", "Connections open now", {{"proxy", name}}, s.open);
    w.counter("failover_proxy_resets_total", "Clients reset by a fault", {{"proxy", name}}, s.reset);
    w.counter("failover_proxy_upstream_failures_total", "Connects to the upstream that failed", {{"proxy", name}},
              s.upstream_failures);
    w.counter("failover_proxy_bytes_total", "Bytes passed on", {{"proxy", name}, {"direction", "to_upstream"}},
              s.bytes_to_upstream);
    w.counter("failover_proxy_bytes_total", "Bytes passed on", {{"proxy", name}, {"direction", "to_client"}},
              s.bytes_to_client);
  }
}

}  // namespace failover::drill
