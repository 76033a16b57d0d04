#pragma once
// /status and /metrics of `failover dns`.
#include <string>
#include <vector>

#include "dns/stats.h"
#include "dns/zone.h"

namespace failover::core {
class MetricsWriter;
}

namespace failover::dns {

struct HttpdnsStats {
  std::uint64_t ok = 0, not_found = 0, bad_request = 0, forbidden = 0;  // control thread only
};

// {"serial","names":[{"name","ttl","panic","answer":{"ips","ipsv6"},"discovery",
//   "targets":[{"target","ip","port","state","reason","since_ms","health":{...}}]}]}
std::string status_json(const Zone& zone, const ZoneSnapshot& published, core::TimePoint now);

// Prometheus text: failover_dns_queries_total{transport,rcode}, ..._dropped_total,
// ..._truncated_total, failover_dns_tcp_connections,
// failover_dns_tcp_connections_closed_total{reason}, failover_dns_httpdns_requests_total{result},
// failover_dns_target_up{name,target}, failover_dns_name_panic{name}.
void metrics(core::MetricsWriter& out, const Zone& zone, const std::vector<const QueryStats*>& udp,
             const QueryStats& tcp, const TcpConnectionStats& connections, const HttpdnsStats& httpdns);

}  // namespace failover::dns
