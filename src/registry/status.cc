// GET /status and GET /metrics of a registry node.
#include <boost/json.hpp>

#include "core/metrics_writer.h"

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

void metrics(core::MetricsWriter& w, const Registry& registry, const Api& api, const Replication* replication) {
  const auto& c = registry.counters();
  w.gauge("failover_registry_index", "Last index handed out.", {}, registry.index());
  w.counter("failover_registry_registrations_total", "Registrations.", {}, c.registrations);
  w.counter("failover_registry_heartbeats_total", "Heartbeats accepted.", {}, c.heartbeats);
  w.counter("failover_registry_removals_total", "Instances that left.", {}, c.removals);
  w.counter("failover_registry_expiries_total", "Leases that ran out (instance unhealthy).", {}, c.expiries);
  w.counter("failover_registry_evictions_total", "Instances removed after deregister_after.", {}, c.evictions);
  w.counter("failover_registry_requests_total", "API requests.", {}, api.counters().requests);
  w.gauge("failover_registry_waiting_queries", "Blocking queries parked.", {}, api.counters().waiting);
  // Service names come from API calls: the writer escapes them, so a name
  // with a quote or a newline cannot break the scrape.
  constexpr std::string_view kInstances = "Instances per service and health.";
  w.family("failover_registry_instances", core::MetricType::kGauge, kInstances);
  for (const auto& [name, count] : registry.services()) {
    const auto view = registry.query(name, false);
    std::size_t healthy = 0;
    if (view)
      for (const Instance* i : view->instances) healthy += i->healthy;
    w.gauge("failover_registry_instances", kInstances, {{"service", name}, {"healthy", "true"}}, healthy);
    w.gauge("failover_registry_instances", kInstances, {{"service", name}, {"healthy", "false"}}, count - healthy);
  }
  if (replication) {
    constexpr std::string_view kPending = "Changes waiting to be sent to a peer.";
    w.family("failover_registry_peer_pending", core::MetricType::kGauge, kPending);
    for (const auto& p : replication->peers())
      w.gauge("failover_registry_peer_pending", kPending, {{"peer", p.url}}, p.pending);
  }
}

}  // namespace failover::registry
