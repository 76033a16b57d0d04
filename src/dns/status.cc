// /status and /metrics of `failover dns`: every target says what it is and
// why, and every name what it answers now.
#include "dns/status.h"

#include <boost/json.hpp>

#include "core/metrics_writer.h"
#include "health/probe_json.h"

namespace failover::dns {

namespace json = boost::json;

namespace {

json::object target_json(const TargetHealth& t, const health::CheckConfig& check, core::TimePoint now) {
  json::array checks;
  for (const health::CheckRecord& c : t.health.history()) checks.push_back(health::probe_json(c.result, c.at, now));
  return {{"target", t.target.key()},
          {"ip", t.target.ip},
          {"port", t.target.port},
          {"state", t.up() ? "up" : "down"},
          {"reason", t.reason(check.enabled)},
          {"state_for_ms", core::millis_between(t.health.since(), now)},
          {"health",
           {{"enabled", check.enabled},
            {"consecutive_successes", t.health.successes()},
            {"consecutive_failures", t.health.failures()},
            {"rise", t.health.rise()},
            {"fall", t.health.fall()},
            {"last_check", t.health.history().empty()
                               ? json::value(nullptr)
                               : json::value(health::probe_json(t.health.history().back().result,
                                                                t.health.history().back().at, now))},
            {"recent_checks", std::move(checks)}}}};
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string status_json(const Zone& zone, const ZoneSnapshot& published, core::TimePoint now) {
  json::array names;
  for (const NameHealth& n : zone.names()) {
    json::array targets;
    for (const TargetHealth& t : n.targets) targets.push_back(target_json(t, n.config.check, now));
    json::object o{{"name", n.config.name},
                   {"panic", n.all_down && zone.config().panic},
                   {"all_down", n.all_down},
                   {"targets", std::move(targets)}};
    if (const NameAnswer* a = published.find_text(n.config.name)) {
      o["ttl"] = a->ttl;
      o["answer"] = json::object{{"ips", strings(a->ips)}, {"ipsv6", strings(a->ipsv6)}};
    }
    if (n.config.discovery) o["discovery"] = json::object{{"service", n.config.discovery->service}};
    names.push_back(std::move(o));
  }
  const DnsConfig& c = zone.config();
  json::object root{{"role", "dns"},
                    {"version", FAILOVER_VERSION},
                    {"http_listen", c.http_listen},
                    {"dns_listen", c.dns_listen},
                    {"serial", published.serial},
                    {"panic_enabled", c.panic},
                    {"signed_requests", !c.secret.empty()},
                    {"names", std::move(names)}};
  return json::serialize(root) + "\n";
}

void metrics(core::MetricsWriter& w, const Zone& zone, const std::vector<const QueryStats*>& udp,
             const QueryStats& tcp, const TcpConnectionStats& connections, const HttpdnsStats& httpdns) {
  constexpr std::string_view kQueries = "DNS queries answered, by transport and rcode.";
  for (std::size_t i = 0; i < kRcodeSlots.size(); ++i) {
    std::uint64_t u = 0;
    for (const QueryStats* s : udp) u += s->by_rcode[i].load(std::memory_order_relaxed);
    w.counter("failover_dns_queries_total", kQueries, {{"transport", "udp"}, {"rcode", kRcodeNames[i]}}, u);
    w.counter("failover_dns_queries_total", kQueries, {{"transport", "tcp"}, {"rcode", kRcodeNames[i]}},
              tcp.by_rcode[i].load(std::memory_order_relaxed));
  }
  std::uint64_t dropped = tcp.dropped.load(), truncated = 0;
  for (const QueryStats* s : udp) {
    dropped += s->dropped.load(std::memory_order_relaxed);
    truncated += s->truncated.load(std::memory_order_relaxed);
  }
  w.counter("failover_dns_dropped_total", "Packets not answered (responses, runts).", {}, dropped);
  w.counter("failover_dns_truncated_total", "UDP replies sent with TC.", {}, truncated);
  w.gauge("failover_dns_tcp_connections", "DNS-over-TCP connections open.", {}, connections.open);
  constexpr std::string_view kClosed =
      "TCP connections closed by a limit: idle ones evicted for a new one, new ones refused with none idle.";
  w.counter("failover_dns_tcp_connections_closed_total", kClosed, {{"reason", "evicted"}}, connections.evicted);
  w.counter("failover_dns_tcp_connections_closed_total", kClosed, {{"reason", "refused"}}, connections.refused);
  for (auto [result, n] : {std::pair{"ok", httpdns.ok}, {"not_found", httpdns.not_found},
                           {"bad_request", httpdns.bad_request}, {"forbidden", httpdns.forbidden}})
    w.counter("failover_dns_httpdns_requests_total", "HTTPDNS requests on /d, by result.", {{"result", result}}, n);
  constexpr std::string_view kTargetUp = "1 when the target passes its checks.";
  constexpr std::string_view kPanic = "1 while no target of the name is healthy and all are answered.";
  constexpr std::string_view kAllDown = "1 while no target of the name is healthy (panic or not).";
  w.family("failover_dns_target_up", core::MetricType::kGauge, kTargetUp);
  w.family("failover_dns_name_panic", core::MetricType::kGauge, kPanic);
  w.family("failover_dns_name_all_down", core::MetricType::kGauge, kAllDown);
  for (const NameHealth& n : zone.names()) {
    for (const TargetHealth& t : n.targets)
      w.gauge("failover_dns_target_up", kTargetUp, {{"name", n.config.name}, {"target", t.target.key()}},
              t.up() ? 1 : 0);
    w.gauge("failover_dns_name_panic", kPanic, {{"name", n.config.name}}, n.all_down && zone.config().panic ? 1 : 0);
    w.gauge("failover_dns_name_all_down", kAllDown, {{"name", n.config.name}}, n.all_down ? 1 : 0);
  }
}

}  // namespace failover::dns
