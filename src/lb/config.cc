#include "lb/config.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "core/config_error.h"
#include "core/yaml_util.h"
#include "health/check_yaml.h"

namespace failover::lb {
namespace {

using core::YamlMap;
using core::YamlValue;
using std::chrono::milliseconds;

constexpr int kMaxWeight = 1000;
constexpr int kMaxTries = 10;
constexpr milliseconds kHour{3'600'000};
constexpr milliseconds kDay = 24 * kHour;

void check_address(const YamlValue& v, const std::string& address) {
  std::string problem = core::address_problem(address);
  if (!problem.empty()) v.fail("bad address \"" + address + "\": " + problem);
}

Balance parse_balance(const YamlValue& v) {
  const std::string s = v.as_string();
  for (Balance b : {Balance::kRoundRobin, Balance::kRandom, Balance::kLeastConn, Balance::kP2C}) {
    if (s == balance_name(b)) return b;
  }
  v.fail("must be round_robin, random, least_conn or p2c");
}

ServerConfig parse_server(const YamlValue& v) {
  ServerConfig s;
  s.line = v.line;
  if (v.node.IsSequence()) {
    // Unquoted, [::1]:80 is YAML for a list holding "::1" followed by junk.
    v.fail("expected host:port or a map, got a list (quote IPv6 addresses: \"[::1]:80\")");
  }
  if (v.node.IsScalar()) {
    s.address = v.as_string();
    check_address(v, s.address);
    return s;
  }
  YamlMap m(v, {"address", "weight", "backup", "down", "max_fails", "fail_timeout", "max_conns"});
  YamlValue address = m.required("address");
  s.address = address.as_string();
  check_address(address, s.address);
  s.weight = m.int_or("weight", s.weight, 1, kMaxWeight);
  s.max_conns = m.int_or("max_conns", s.max_conns, 0, 1'000'000);
  s.backup = m.bool_or("backup", s.backup);
  s.down = m.bool_or("down", s.down);
  s.max_fails = m.int_or("max_fails", s.max_fails, 0, health::kMaxPassiveFails);
  s.fail_timeout =
      m.duration_or("fail_timeout", s.fail_timeout, milliseconds(1), health::kMaxFailTimeout);
  return s;
}

RetryConfig parse_retry(const YamlValue& v) {
  YamlMap m(v, {"tries", "timeout", "try_timeout"});
  RetryConfig r;
  r.tries = m.int_or("tries", r.tries, 1, kMaxTries);
  r.timeout = m.duration_or("timeout", r.timeout, milliseconds(1), kHour);
  if (m.has("try_timeout")) {
    r.try_timeout = m.duration_or("try_timeout", r.try_timeout, milliseconds(1), kHour);
    if (r.try_timeout > r.timeout) m.fail("try_timeout", "must not be longer than timeout");
  } else {
    // A shorter whole-request timeout than the default attempt's is not a mistake.
    r.try_timeout = std::min(r.try_timeout, r.timeout);
  }
  return r;
}

UpstreamConfig finish_upstream(const YamlMap& m, UpstreamConfig u);

UpstreamConfig parse_upstream(const YamlValue& v) {
  YamlMap m(v, {"name", "balance", "servers", "check", "passive", "retry", "slow_start", "panic",
                "discovery"});
  UpstreamConfig u;
  u.line = m.line();
  YamlValue name = m.required("name");
  u.name = name.as_string();
  if (!core::plain_name(u.name)) name.fail(core::kPlainNameRule);
  if (m.has("balance")) u.balance = parse_balance(m.required("balance"));
  if (m.has("discovery")) u.discovery = client::parse_discovery_yaml(m.required("discovery"));
  if (!m.has("servers")) {
    if (u.discovery) return finish_upstream(m, std::move(u));
    m.fail("no servers (add a servers: list, or discovery:)");
  }
  YamlValue servers = m.required("servers");
  std::map<std::string, int> seen;  // address -> line
  for (const YamlValue& sv : servers.as_list()) {
    if (u.servers.size() == kMaxServers) {
      sv.fail("more than " + std::to_string(kMaxServers) + " servers in one upstream");
    }
    ServerConfig s = parse_server(sv);
    auto [it, fresh] = seen.emplace(s.address, s.line);
    if (!fresh) {
      sv.fail("duplicate server " + s.address + " (also on line " + std::to_string(it->second) +
              ")");
    }
    u.servers.push_back(std::move(s));
  }
  if (u.servers.empty() && !u.discovery) servers.fail("needs at least one server");
  return finish_upstream(m, std::move(u));
}

// The keys every upstream may have, with or without a servers: list.
UpstreamConfig finish_upstream(const YamlMap& m, UpstreamConfig u) {
  if (m.has("check")) u.check = health::parse_check_yaml(m.required("check"));
  if (m.has("passive")) u.passive = health::parse_passive_yaml(m.required("passive"));
  if (m.has("retry")) u.retry = parse_retry(m.required("retry"));
  u.slow_start = m.duration_or("slow_start", u.slow_start, milliseconds(0), kHour);
  u.panic = m.bool_or("panic", u.panic);
  return u;
}

RouteConfig parse_route(const YamlValue& v, const std::map<std::string, int>& upstreams) {
  YamlMap m(v, {"host", "path", "upstream"});
  RouteConfig r;
  r.line = m.line();
  r.host = m.string_or("host", r.host);
  if (r.host.empty() || !health::safe_in_request(r.host)) {
    m.fail("host", "must be a host name or \"*\"");
  }
  r.path = m.string_or("path", r.path);
  if (!r.path.starts_with('/')) m.fail("path", "must start with '/'");
  YamlValue upstream = m.required("upstream");
  r.upstream = upstream.as_string();
  if (!upstreams.contains(r.upstream)) upstream.fail("unknown upstream " + r.upstream);
  return r;
}

LimitsConfig parse_limits(const YamlValue& v) {
  YamlMap m(v, {"client_connections", "upstream_connections", "max_header_size", "max_headers",
                "max_body_size", "header_timeout", "body_timeout", "keepalive_timeout", "upstream_idle_timeout",
                "response_timeout", "tunnel_timeout"});
  LimitsConfig l;
  l.client_connections = m.int_or("client_connections", l.client_connections, 1, 1'000'000);
  l.upstream_connections = m.int_or("upstream_connections", l.upstream_connections, 1, 100'000);
  // Under 1k not even a browser's request line and cookies fit.
  l.max_header_size = m.size_or("max_header_size", l.max_header_size, 1ULL << 10, 1ULL << 20);
  // As HAProxy's tune.http.maxhdr; past 10000 the byte limit bites first anyway.
  l.max_headers = m.int_or("max_headers", l.max_headers, 1, 10'000);
  l.max_body_size = m.size_or("max_body_size", l.max_body_size, 0, 16ULL << 30);
  l.header_timeout = m.duration_or("header_timeout", l.header_timeout, milliseconds(1), kDay);
  l.body_timeout = m.duration_or("body_timeout", l.body_timeout, milliseconds(1), kDay);
  // 0 is allowed for the two idle timeouts: it turns connection reuse off.
  l.keepalive_timeout =
      m.duration_or("keepalive_timeout", l.keepalive_timeout, milliseconds(0), kDay);
  l.upstream_idle_timeout =
      m.duration_or("upstream_idle_timeout", l.upstream_idle_timeout, milliseconds(0), kDay);
  l.response_timeout = m.duration_or("response_timeout", l.response_timeout, milliseconds(1), kDay);
  l.tunnel_timeout = m.duration_or("tunnel_timeout", l.tunnel_timeout, milliseconds(1), kDay);
  return l;
}

LbConfig parse_lb(const YamlValue& v) {
  YamlMap m(v, {"listen", "admin", "threads", "cpu_affinity", "drain_timeout", "limits", "upstreams", "routes"});
  LbConfig c;
  c.source = v.file;
  for (auto [key, field] : {std::pair{"listen", &c.listen}, std::pair{"admin", &c.admin}}) {
    if (!m.has(key)) continue;
    YamlValue a = m.required(key);
    *field = a.as_string();
    check_address(a, *field);
  }
  c.threads = m.int_or("threads", c.threads, 0, 256);
  if (m.has("cpu_affinity")) {
    YamlValue a = m.required("cpu_affinity");
    if (!core::parse_cpu_affinity(a.as_string(), c.cpu_affinity))
      a.fail("cpu_affinity must be auto or off, not '" + a.as_string() + "'");
  }
  c.drain_timeout = m.duration_or("drain_timeout", c.drain_timeout, milliseconds(0), kHour);
  if (m.has("limits")) c.limits = parse_limits(m.required("limits"));

  if (!m.has("upstreams")) m.fail("no upstreams (add an upstreams: list)");
  YamlValue upstreams = m.required("upstreams");
  std::map<std::string, int> names;  // name -> line
  for (const YamlValue& uv : upstreams.as_list()) {
    UpstreamConfig u = parse_upstream(uv);
    auto [it, fresh] = names.emplace(u.name, u.line);
    if (!fresh) {
      uv.fail("duplicate upstream name " + u.name + " (first on line " +
              std::to_string(it->second) + ")");
    }
    c.upstreams.push_back(std::move(u));
  }
  if (c.upstreams.empty()) upstreams.fail("needs at least one upstream");

  if (m.has("routes")) {
    std::map<std::pair<std::string, std::string>, int> seen;  // (host, path) -> line
    for (const YamlValue& rv : m.required("routes").as_list()) {
      RouteConfig r = parse_route(rv, names);
      auto [it, fresh] = seen.emplace(std::pair{r.host, r.path}, r.line);
      if (!fresh) {
        rv.fail("duplicate route for host " + r.host + " path " + r.path + " (first on line " +
                std::to_string(it->second) + ")");
      }
      c.routes.push_back(std::move(r));
    }
  }
  return c;
}

}  // namespace

const char* balance_name(Balance b) {
  switch (b) {
    case Balance::kRoundRobin:
      return "round_robin";
    case Balance::kRandom:
      return "random";
    case Balance::kLeastConn:
      return "least_conn";
    case Balance::kP2C:
      return "p2c";
  }
  return "round_robin";
}

LbConfig parse_lb_config(const std::string& yaml_text, const std::string& file_name) {
  return core::parse_section(yaml_text, file_name, "lb", parse_lb);
}

LbConfig load_lb_config(const std::string& path) {
  return parse_lb_config(core::read_config_file(path), path);
}

}  // namespace failover::lb
