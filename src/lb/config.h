#pragma once
// The load balancer's configuration: the `lb:` section of a YAML file, or
// nginx `upstream` blocks (see nginx_config.h). Loading validates everything;
// a bad file throws core::ConfigError ("file:line: what is wrong").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/discovery_config.h"
#include "core/cpu_affinity.h"
#include "health/check_config.h"
#include "health/passive_config.h"

namespace failover::lb {

enum class Balance { kRoundRobin, kRandom, kLeastConn, kP2C };

struct ServerConfig {
  std::string address;  // "host:port"; host is an IPv4/IPv6 literal or a name resolved at load
  int weight = 1;       // 1..1000
  bool backup = false;  // only used when every primary server is unavailable
  bool down = false;    // administratively down from the start (nginx `down`)
  int max_fails = -1;   // -1: the upstream's passive.max_fails
  std::chrono::milliseconds fail_timeout{-1};  // negative: the upstream's passive.fail_timeout
  int max_conns = 0;    // open connections to it, all threads (nginx max_conns); 0: limits.upstream_connections
  int line = 0;         // where it was written, for messages
};

struct RetryConfig {
  int tries = 3;                                   // attempts in all, first one included
  std::chrono::milliseconds timeout{5000};         // whole request, all attempts
  std::chrono::milliseconds try_timeout{1000};     // one attempt: connect to last byte of headers
};

// Servers that come and go with a registry service (failover registry).
using client::DiscoveryConfig;

struct UpstreamConfig {
  std::string name;
  Balance balance = Balance::kRoundRobin;
  std::vector<ServerConfig> servers;               // with discovery: fixed servers besides the registry's
  std::optional<DiscoveryConfig> discovery;
  health::CheckConfig check;                       // check.enabled false without a `check:` block
  health::PassiveConfig passive;
  RetryConfig retry;
  std::chrono::milliseconds slow_start{0};         // 0: a returning server gets its full weight at once
  bool panic = true;                               // all down: send to all rather than refuse
  int line = 0;
};

struct RouteConfig {
  std::string host = "*";   // exact Host (port ignored) or "*"
  std::string path = "/";   // prefix; the longest matching prefix wins
  std::string upstream;
  int line = 0;
};

struct LimitsConfig {
  int client_connections = 10'000;                       // open client connections, all threads
  int upstream_connections = 1'000;                      // open connections to one server, all threads
  std::uint64_t max_header_size = 16 * 1024;             // request line + headers; over it: 431
  int max_headers = 100;                                 // fields in a request or response head; over it: 431 (502)
  std::uint64_t max_body_size = 1024 * 1024;             // request body; over it: 413
  std::chrono::milliseconds header_timeout{10'000};      // first byte to end of headers; then 408
  std::chrono::milliseconds body_timeout{60'000};        // between two reads of a request body; then 408
  std::chrono::milliseconds keepalive_timeout{60'000};   // idle client connection between requests
  std::chrono::milliseconds upstream_idle_timeout{60'000};  // pooled upstream connection unused
  std::chrono::milliseconds response_timeout{60'000};    // between two reads of a response body
  std::chrono::milliseconds tunnel_timeout{3'600'000};   // upgraded (WebSocket) connection with no bytes either way
};

struct LbConfig {
  std::string listen = "127.0.0.1:8080";
  std::string admin = "127.0.0.1:9080";
  int threads = 0;                                   // 0: one per core
  core::CpuAffinity cpu_affinity = core::CpuAffinity::kAuto;  // pin workers to CPUs
  std::chrono::milliseconds drain_timeout{10'000};   // SIGTERM: time left to finish requests
  LimitsConfig limits;
  std::vector<UpstreamConfig> upstreams;             // at least one; names unique
  std::vector<RouteConfig> routes;                   // empty: the first upstream serves everything
  std::string source;                                // the file it came from
  // What the loader read but does not act on (an nginx file's directives
  // that tune nginx itself), each "file:line: what"; logged at start.
  std::vector<std::string> warnings;
};

// At most this many servers in one upstream, discovered ones included.
inline constexpr std::size_t kMaxServers = 64;

// Reads `path` (YAML with an `lb:` section). Throws core::ConfigError.
LbConfig load_lb_config(const std::string& path);
// The same from text; `file_name` only labels messages.
LbConfig parse_lb_config(const std::string& yaml_text, const std::string& file_name);

// Names as written in config: "round_robin", "random", "least_conn", "p2c".
const char* balance_name(Balance b);

}  // namespace failover::lb
