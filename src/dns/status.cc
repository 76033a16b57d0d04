// /status and /metrics of `failover dns`: every target says what it is and
// why, and every name what it answers now.
#include "dns/status.h"

#include <boost/json.hpp>
#include <sstream>

#include "core/prometheus.h"
#include "health/probe_json.h"

namespace failover::dns {

namespace json = boost::json;

namespace {

json::object target_json(const TargetHealth& t, const health::CheckConfig& check, core::TimePoint now) {
  json::array checks;
  for (const CheckRecord& c : t.checks) checks.push_back(health::probe_json(c.result, c.at, now));
  return {{"target", t.target.key()},
          {"ip", t.target.ip},
          {"port", t.target.port},
          {"state", t.up() ? "up" : "down"},
          {"reason", t.reason(check.enabled)},
          {"state_for_ms", core::millis_between(t.state_since, now)},
          {"health",
           {{"enabled", check.enabled},
            {"consecutive_successes", t.rise_fall.consecutive_successes()},
            {"consecutive_failures", t.rise_fall.consecutive_failures()},
            {"rise", t.rise_fall.rise()},
            {"fall", t.rise_fall.fall()},
            {"last_check", t.checks.empty() ? json::value(nullptr)
                                            : json::value(health::probe_json(t.checks.back().result, t.checks.back().at, now))},
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

std::string metrics_text(const Zone& zone, const std::vector<const QueryStats*>& udp, const QueryStats& tcp,
                         const TcpConnectionStats& connections, const HttpdnsStats& httpdns) {
  std::ostringstream out;
  out << "# HELP failover_dns_queries_total DNS queries answered, by transport and rcode.\n"
         "# TYPE failover_dns_queries_total counter\n";
  for (std::size_t i = 0; i < kRcodeSlots.size(); ++i) {
    std::uint64_t u = 0;
    for (const QueryStats* s : udp) u += s->by_rcode[i].load(std::memory_order_relaxed);
    out << "failover_dns_queries_total{transport=\"udp\",rcode=\"" << kRcodeNames[i] << "\"} " << u << '\n';
    out << "failover_dns_queries_total{transport=\"tcp\",rcode=\"" << kRcodeNames[i] << "\"} "
        << tcp.by_rcode[i].load(std::memory_order_relaxed) << '\n';
  }
  std::uint64_t dropped = tcp.dropped.load(), truncated = 0;
  for (const QueryStats* s : udp) {
    dropped += s->dropped.load(std::memory_order_relaxed);
    truncated += s->truncated.load(std::memory_order_relaxed);
  }
  out << "# HELP failover_dns_dropped_total Packets not answered (responses, runts).\n"
         "# TYPE failover_dns_dropped_total counter\nfailover_dns_dropped_total "
      << dropped << "\n# HELP failover_dns_truncated_total UDP replies sent with TC.\n"
         "# TYPE failover_dns_truncated_total counter\nfailover_dns_truncated_total "
      << truncated << '\n';
  out << "# HELP failover_dns_tcp_connections DNS-over-TCP connections open.\n"
         "# TYPE failover_dns_tcp_connections gauge\nfailover_dns_tcp_connections "
      << connections.open
      << "\n# HELP failover_dns_tcp_connections_closed_total TCP connections closed by a limit: idle ones evicted "
         "for a new one, new ones refused with none idle.\n"
         "# TYPE failover_dns_tcp_connections_closed_total counter\n"
         "failover_dns_tcp_connections_closed_total{reason=\"evicted\"} "
      << connections.evicted << "\nfailover_dns_tcp_connections_closed_total{reason=\"refused\"} "
      << connections.refused << '\n';
  out << "# HELP failover_dns_httpdns_requests_total HTTPDNS requests on /d, by result.\n"
         "# TYPE failover_dns_httpdns_requests_total counter\n";
  for (auto [result, n] : {std::pair{"ok", httpdns.ok}, {"not_found", httpdns.not_found},
                           {"bad_request", httpdns.bad_request}, {"forbidden", httpdns.forbidden}})
    out << "failover_dns_httpdns_requests_total{result=\"" << result << "\"} " << n << '\n';
  out << "# HELP failover_dns_target_up 1 when the target passes its checks.\n# TYPE failover_dns_target_up gauge\n";
  for (const NameHealth& n : zone.names())
    for (const TargetHealth& t : n.targets)
      out << "failover_dns_target_up{name=\"" << core::prometheus_label(n.config.name) << "\",target=\""
          << core::prometheus_label(t.target.key()) << "\"} " << (t.up() ? 1 : 0) << '\n';
  out << "# HELP failover_dns_name_panic 1 while no target of the name is healthy and all are answered.\n"
         "# TYPE failover_dns_name_panic gauge\n";
  for (const NameHealth& n : zone.names())
    out << "failover_dns_name_panic{name=\"" << core::prometheus_label(n.config.name) << "\"} "
        << (n.all_down && zone.config().panic ? 1 : 0) << '\n';
  out << "# HELP failover_dns_name_all_down 1 while no target of the name is healthy (panic or not).\n"
         "# TYPE failover_dns_name_all_down gauge\n";
  for (const NameHealth& n : zone.names())
    out << "failover_dns_name_all_down{name=\"" << core::prometheus_label(n.config.name) << "\"} "
        << (n.all_down ? 1 : 0) << '\n';
  return out.str();
}

}  // namespace failover::dns
