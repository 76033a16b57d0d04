#pragma once
// `failover dns` configuration (the `dns:` section): the addresses it
// listens on, and for each name the load balancers behind it, how they are
// checked, or the registry service whose instances they are.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/discovery_config.h"
#include "health/check_config.h"

namespace failover::dns {

inline constexpr std::uint16_t kDefaultCheckPort = 80;
inline constexpr std::uint32_t kMaxTtl = 86'400;  // seconds; a day, as most resolvers cap it
inline constexpr std::size_t kMaxTargetsPerName = 64;

// One load balancer behind a name: the IP that the answers carry and the
// port its health checks go to.
struct Target {
  std::string ip;                      // canonical text: "127.0.0.11", "::1"
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // network order; the first 4 for IPv4
  std::uint16_t port = kDefaultCheckPort;

  // "127.0.0.11:8080" / "[::1]:8080": one target's identity in /status.
  std::string key() const;
  bool operator==(const Target& o) const { return ip == o.ip && port == o.port; }
};

// "127.0.0.11", "127.0.0.11:8080", "::1", "[::1]:8080" (a bare IPv6 literal
// has no port: its colons would be ambiguous). Nothing for a name or a bad
// address; `default_port` when none is written.
std::optional<Target> parse_target(std::string_view text, std::uint16_t default_port = kDefaultCheckPort);

struct DomainConfig {
  std::string name;             // lower case, no final dot: "www.example.com"
  std::vector<Target> targets;  // fixed targets
  std::optional<client::DiscoveryConfig> discovery;  // or: a registry service's instances
  health::CheckConfig check;    // disabled: every target counts as healthy
  std::uint32_t ttl = 0;        // seconds; 0: the section's ttl
  int line = 0;
};

// DNS over TCP (the `tcp:` map). At a limit, a new connection closes the
// connection idle the longest (its client's for the per-client limit, anyone's
// for the total) and is refused only when none is idle (RFC 7766 6.2.3, 10).
struct TcpLimits {
  std::size_t max_connections = 512;
  // One address cannot take every slot; with the eviction above it can only
  // push out its own idle connections once it reaches this.
  std::size_t max_connections_per_client = 64;
  // An idle connection is closed after this, and a query must arrive whole
  // within it (RFC 7766 6.2.3: seconds, not minutes).
  std::chrono::milliseconds idle_timeout{10'000};
};
inline constexpr std::size_t kMaxTcpConnections = 1'000'000;

struct DnsConfig {
  std::string http_listen = "127.0.0.1:8053";  // HTTPDNS, /status, /metrics, dashboard
  std::string dns_listen = "127.0.0.1:5353";   // UDP and TCP; empty: no DNS responder
  std::uint32_t ttl = 60;                      // seconds
  int threads = 0;                             // UDP responder threads; 0: one per core
  bool panic = true;   // no healthy target: answer all of them rather than none
  std::string secret;  // set: HTTPDNS requests must be signed (t, s)
  std::string nameserver;  // NS and SOA MNAME of every name; empty: "ns." + the name
  std::string hostmaster;  // SOA RNAME; empty: "hostmaster." + the name
  std::size_t max_hosts_per_query = 32;        // host=a,b,c on /d
  TcpLimits tcp;
  std::vector<DomainConfig> domains;
  std::string source;  // the file it came from
};

// Reads `path` (YAML with a `dns:` section). Throws core::ConfigError.
DnsConfig load_dns_config(const std::string& path);
DnsConfig parse_dns_config(const std::string& yaml_text, const std::string& file_name);

}  // namespace failover::dns
