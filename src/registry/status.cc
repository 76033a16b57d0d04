// GET /status and GET /metrics of a registry node.
#include <boost/json.hpp>

#include "registry/api.h"
#include "registry/replication.h"

namespace failover::registry {

namespace json = boost::json;

std::string status_json(const Registry& registry, const Api& api, const Backend& backend,
                        const RegistryConfig& config, const Replication* replication) {
  json::object o;
  o["role"] = "registry";
  o["version"] = FAILOVER_VERSION;
  o["listen"] = config.listen;
  o["backend"] = backend.name();
  if (std::string e = backend.last_error(); !e.empty()) o["backend_error"] = e;
  o["index"] = registry.index();
  o["auth"] = !config.token.empty();
  json::array services;
  for (const auto& [name, count] : registry.services()) {
    const auto view = registry.query(name, false);
    std::size_t healthy = 0;
    if (view)
      for (const Instance* i : view->instances) healthy += i->healthy;
    services.push_back(json::object{{"name", name},
                                    {"instances", count},
                                    {"healthy", healthy},
                                    {"index", view ? view->index : 0},
                                    {"protected", view && view->protected_mode}});
  }
  o["services"] = std::move(services);
  json::array peers;
  if (replication) {
    for (const auto& p : replication->peers()) {
      peers.push_back(json::object{{"url", p.url},
                                   {"reachable", p.reachable},
                                   {"pending", p.pending},
                                   {"sent", p.sent},
                                   {"failures", p.failures},
                                   {"last_error", p.last_error}});
    }
  }
  o["peers"] = std::move(peers);
  const auto& c = registry.counters();
  o["counters"] = json::object{{"registrations", c.registrations}, {"heartbeats", c.heartbeats},
                               {"removals", c.removals},           {"expiries", c.expiries},
                               {"evictions", c.evictions},         {"requests", api.counters().requests},
                               {"blocking_queries", api.counters().blocking_queries},
                               {"waiting_queries", api.counters().waiting},
                               {"unauthorized", api.counters().unauthorized},
                               {"bad_requests", api.counters().bad_requests},
                               {"replicated_in", replication ? replication->received() : 0}};
  return json::serialize(o) + "\n";
}

std::string metrics_text(const Registry& registry, const Api& api, const Replication* replication) {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, auto value) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out.append(name).append(" ").append(type).append("\n").append(name).append(" ");
    out.append(std::to_string(value)).append("\n");
  };
  const auto& c = registry.counters();
  metric("failover_registry_index", "gauge", "Last index handed out.", registry.index());
  metric("failover_registry_registrations_total", "counter", "Registrations.", c.registrations);
  metric("failover_registry_heartbeats_total", "counter", "Heartbeats accepted.", c.heartbeats);
  metric("failover_registry_removals_total", "counter", "Instances that left.", c.removals);
  metric("failover_registry_expiries_total", "counter", "Leases that ran out (instance unhealthy).", c.expiries);
  metric("failover_registry_evictions_total", "counter", "Instances removed after deregister_after.", c.evictions);
  metric("failover_registry_requests_total", "counter", "API requests.", api.counters().requests);
  metric("failover_registry_waiting_queries", "gauge", "Blocking queries parked.", api.counters().waiting);
  out += "# HELP failover_registry_instances Instances per service and health.\n"
         "# TYPE failover_registry_instances gauge\n";
  for (const auto& [name, count] : registry.services()) {
    const auto view = registry.query(name, false);
    std::size_t healthy = 0;
    if (view)
      for (const Instance* i : view->instances) healthy += i->healthy;
    out += "failover_registry_instances{service=\"" + name + "\",healthy=\"true\"} " + std::to_string(healthy) + '\n';
    out += "failover_registry_instances{service=\"" + name + "\",healthy=\"false\"} " +
           std::to_string(count - healthy) + '\n';
  }
  if (replication) {
    out += "# HELP failover_registry_peer_pending Changes waiting to be sent to a peer.\n"
           "# TYPE failover_registry_peer_pending gauge\n";
    for (const auto& p : replication->peers())
      out += "failover_registry_peer_pending{peer=\"" + p.url + "\"} " + std::to_string(p.pending) + '\n';
  }
  return out;
}

}  // namespace failover::registry
