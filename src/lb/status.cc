// /status and /metrics of the load balancer, built from the control
// thread's state: every server says what it is and why.
#include <boost/json.hpp>

#include "core/metrics_writer.h"
#include "health/probe_json.h"
#include "lb/control.h"

namespace failover::lb {

namespace json = boost::json;

namespace {

json::object check_json(const health::CheckRecord& c, core::TimePoint now) {
  return health::probe_json(c.result, c.at, now);
}

json::object server_json(const ServerHealth& s, core::TimePoint now) {
  json::array checks;
  for (const auto& c : s.health().history()) checks.push_back(check_json(c, now));
  json::array failures;
  for (const auto& f : s.failures())
    failures.push_back(json::object{{"ago_ms", core::millis_between(f.at, now)}, {"cause", f.cause}});
  const bool ejected = s.ejector().ejected(now);
  return {
      {"address", s.config().address},
      {"state", s.state_name(now)},
      {"reason", s.reason(now)},
      {"state_for_ms", core::millis_between(s.state_since(), now)},
      {"backup", s.config().backup},
      {"weight", s.config().weight},
      {"effective_weight", s.effective_weight(now) / 100.0},
      {"admin", admin_state_name(s.admin())},
      {"health",
       {{"enabled", s.check().enabled},
        {"up", s.health().up()},
        {"consecutive_successes", s.health().successes()},
        {"consecutive_failures", s.health().failures()},
        {"rise", s.health().rise()},
        {"fall", s.health().fall()},
        {"port", s.check().port != 0 ? s.check().port : s.endpoint().port()},
        {"last_check", s.health().history().empty() ? json::value(nullptr)
                                                     : json::value(check_json(s.health().history().back(), now))},
        {"recent_checks", std::move(checks)}}},
      {"passive",
       {{"ejected", ejected},
        {"ejected_for_ms", ejected ? core::millis_between(now, s.ejector().ejected_until()) : 0},
        {"ejections", s.ejector().ejections()},
        {"recent_failures", s.ejector().recent_failures(now)},
        {"level", s.ejector().level(now)},
        {"recent", std::move(failures)}}},
      {"slow_start", {{"active", s.in_slow_start(now)}, {"factor", s.effective_weight(now) / (100.0 * s.config().weight)}}},
      {"requests",
       {{"active", s.stats()->active.load()},
        {"total", s.stats()->total.load()},
        {"failures", s.stats()->failures.load()},
        {"responses", s.stats()->responses.load()},
        {"connections", s.stats()->connections.load()}}},
  };
}

}  // namespace

std::string Control::status_json(core::TimePoint now) const {
  json::array ups;
  for (const Upstream& up : upstreams_) {
    json::array servers;
    for (const auto& s : up.servers) servers.push_back(server_json(*s, now));
    json::object o{{"name", up.config.name},
                   {"balance", balance_name(up.config.balance)},
                   {"panic", up.panic},
                   {"panic_enabled", up.config.panic},
                   {"servers", std::move(servers)}};
    if (up.config.discovery) {
      auto it = discovery_state_.find(up.config.name);
      const DiscoveryState d = it == discovery_state_.end() ? DiscoveryState{} : it->second;
      o["discovery"] = json::object{{"service", up.config.discovery->service},
                                    {"registry", d.registry},
                                    {"index", d.index},
                                    {"protected", d.protected_mode},
                                    {"error", d.error}};
    }
    ups.push_back(std::move(o));
  }
  json::object root{{"role", "lb"},
                    {"version", FAILOVER_VERSION},
                    {"uptime_ms", core::millis_between(started_, now)},
                    {"listen", config_.listen},
                    {"upstreams", std::move(ups)}};
  return json::serialize(root) + "\n";
}

void Control::metrics(core::MetricsWriter& w, core::TimePoint now) const {
  using core::MetricType;
  struct PerServer {
    std::string_view name;
    MetricType type;
    std::string_view help;
    std::uint64_t (*value)(const ServerHealth&, core::TimePoint);
  };
  static constexpr PerServer kPerServer[] = {
      {"failover_lb_server_up", MetricType::kGauge, "1 when the server gets new requests.",
       [](const ServerHealth& s, core::TimePoint now) -> std::uint64_t { return s.available(now) ? 1 : 0; }},
      {"failover_lb_server_requests_total", MetricType::kCounter, "Attempts sent to the server.",
       [](const ServerHealth& s, core::TimePoint) -> std::uint64_t { return s.stats()->total.load(); }},
      {"failover_lb_server_failures_total", MetricType::kCounter,
       "Attempts that failed (connect, timeout, reset, bad response, 502-504).",
       [](const ServerHealth& s, core::TimePoint) -> std::uint64_t { return s.stats()->failures.load(); }},
      {"failover_lb_server_active", MetricType::kGauge, "Requests in flight.",
       [](const ServerHealth& s, core::TimePoint) -> std::uint64_t { return s.stats()->active.load(); }},
      {"failover_lb_server_ejections_total", MetricType::kCounter, "Passive ejections.",
       [](const ServerHealth& s, core::TimePoint) -> std::uint64_t { return s.ejector().ejections(); }},
  };
  for (const PerServer& m : kPerServer) {
    w.family(m.name, m.type, m.help);
    for (const Upstream& up : upstreams_)
      for (const auto& s : up.servers) {
        const core::MetricsWriter::Labels labels = {{"upstream", up.config.name}, {"server", s->config().address}};
        if (m.type == MetricType::kGauge) w.gauge(m.name, m.help, labels, m.value(*s, now));
        else w.counter(m.name, m.help, labels, m.value(*s, now));
      }
  }
  constexpr std::string_view kPanic = "1 while every server of the upstream is down and requests go to all.";
  w.family("failover_lb_upstream_panic", MetricType::kGauge, kPanic);
  for (const Upstream& up : upstreams_)
    w.gauge("failover_lb_upstream_panic", kPanic, {{"upstream", up.config.name}}, up.panic ? 1 : 0);
}

}  // namespace failover::lb
