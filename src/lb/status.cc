// /status and /metrics of the load balancer, built from the control
// thread's state: every server says what it is and why.
#include <boost/json.hpp>
#include <sstream>

#include "core/prometheus.h"
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

std::string label(std::string_view v) { return core::prometheus_label(v); }

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

std::string Control::metrics_text(core::TimePoint now) const {
  std::ostringstream out;
  out << "# HELP failover_lb_server_up 1 when the server gets new requests.\n"
         "# TYPE failover_lb_server_up gauge\n";
  auto each = [&](auto&& fn) {
    for (const Upstream& up : upstreams_)
      for (const auto& s : up.servers)
        fn("{upstream=\"" + label(up.config.name) + "\",server=\"" + label(s->config().address) + "\"}", *s);
  };
  each([&](const std::string& l, const ServerHealth& s) { out << "failover_lb_server_up" << l << ' ' << (s.available(now) ? 1 : 0) << '\n'; });
  out << "# HELP failover_lb_server_requests_total Attempts sent to the server.\n# TYPE failover_lb_server_requests_total counter\n";
  each([&](const std::string& l, const ServerHealth& s) { out << "failover_lb_server_requests_total" << l << ' ' << s.stats()->total.load() << '\n'; });
  out << "# HELP failover_lb_server_failures_total Attempts that failed (connect, timeout, reset, bad response, 502-504).\n# TYPE failover_lb_server_failures_total counter\n";
  each([&](const std::string& l, const ServerHealth& s) { out << "failover_lb_server_failures_total" << l << ' ' << s.stats()->failures.load() << '\n'; });
  out << "# HELP failover_lb_server_active Requests in flight.\n# TYPE failover_lb_server_active gauge\n";
  each([&](const std::string& l, const ServerHealth& s) { out << "failover_lb_server_active" << l << ' ' << s.stats()->active.load() << '\n'; });
  out << "# HELP failover_lb_server_ejections_total Passive ejections.\n# TYPE failover_lb_server_ejections_total counter\n";
  each([&](const std::string& l, const ServerHealth& s) { out << "failover_lb_server_ejections_total" << l << ' ' << s.ejector().ejections() << '\n'; });
  out << "# HELP failover_lb_upstream_panic 1 while every server of the upstream is down and requests go to all.\n# TYPE failover_lb_upstream_panic gauge\n";
  for (const Upstream& up : upstreams_)
    out << "failover_lb_upstream_panic{upstream=\"" << label(up.config.name) << "\"} " << (up.panic ? 1 : 0) << '\n';
  return out.str();
}

}  // namespace failover::lb
