#include "dns/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "core/config_error.h"
#include "core/yaml_util.h"
#include "health/check_yaml.h"
#include "net/endpoint.h"
#include "net/host_name.h"

namespace failover::dns {
namespace {

using core::YamlMap;
using core::YamlValue;

std::string domain_name(const YamlValue& where, const std::string& text) {
  std::string name = net::normalize_host(text);
  if (!net::valid_host_name(name))
    where.fail("'" + text + "' is not a host name (letters, digits, '-', '_', dot-separated labels of 1 to 63)");
  return name;
}

std::uint32_t ttl_seconds(const YamlMap& m, std::uint32_t fallback) {
  return m.int_or<std::uint32_t>("ttl", fallback, 0, kMaxTtl);
}

DomainConfig parse_domain(const std::string& name, const YamlValue& v) {
  YamlMap m(v, {"targets", "check", "discovery", "ttl"});
  DomainConfig d;
  d.name = domain_name(v, name);
  d.line = v.line;
  if (m.has("targets")) {
    std::set<std::string> seen;
    for (const YamlValue& t : m.required("targets").as_list_or_scalar()) {
      const std::string text = t.as_string();
      std::optional<Target> target = parse_target(text);
      if (!target) t.fail("bad target \"" + text + "\" (want an IP literal, IP:port or [IPv6]:port)");
      if (!seen.insert(target->key()).second) t.fail("target " + target->key() + " is listed twice");
      d.targets.push_back(std::move(*target));
    }
    if (d.targets.size() > kMaxTargetsPerName)
      m.fail("targets", "at most " + std::to_string(kMaxTargetsPerName) + " targets per name");
  }
  if (m.has("discovery")) d.discovery = client::parse_discovery_yaml(m.required("discovery"));
  if (d.targets.empty() && !d.discovery) m.fail("needs targets: or discovery:");
  if (m.has("check")) d.check = health::parse_check_yaml(m.required("check"));
  d.ttl = ttl_seconds(m, 0);
  return d;
}

TcpLimits parse_tcp(const YamlValue& v) {
  YamlMap m(v, {"max_connections", "max_connections_per_client", "idle_timeout"});
  TcpLimits t;
  t.max_connections = m.int_or<std::size_t>("max_connections", t.max_connections, 1, kMaxTcpConnections);
  t.max_connections_per_client =
      m.int_or<std::size_t>("max_connections_per_client", t.max_connections_per_client, 1, kMaxTcpConnections);
  // The floor only refuses nonsense: 0 would close a connection before its first query.
  t.idle_timeout = m.duration_or("idle_timeout", t.idle_timeout, std::chrono::milliseconds(100),
                                 std::chrono::minutes(10));
  return t;
}

DnsConfig parse_dns(const YamlValue& v) {
  YamlMap m(v, {"http_listen", "dns_listen", "ttl", "threads", "panic", "secret", "nameserver",
                "hostmaster", "max_hosts_per_query", "tcp", "domains"});
  DnsConfig c;
  c.source = v.file;
  for (auto [key, field] : {std::pair{"http_listen", &c.http_listen}, {"dns_listen", &c.dns_listen}}) {
    if (!m.has(key)) continue;
    YamlValue a = m.required(key);
    *field = a.as_string();
    if (*field == "" && std::string_view(key) == "dns_listen") continue;  // HTTPDNS only
    if (std::string problem = core::address_problem(*field); !problem.empty())
      a.fail("bad address \"" + *field + "\": " + problem);
    if (std::string_view(key) == "dns_listen" && !parse_target(*field))
      a.fail("must be an IP address and port (\"127.0.0.1:53\", \"[::1]:53\"), not a name");
  }
  c.ttl = ttl_seconds(m, c.ttl);
  c.threads = m.int_or("threads", 0, 0, 256);
  c.panic = m.bool_or("panic", c.panic);
  c.secret = m.string_or("secret", "");
  for (auto [key, field] : {std::pair{"nameserver", &c.nameserver}, {"hostmaster", &c.hostmaster}})
    if (m.has(key)) *field = domain_name(m.required(key), m.required(key).as_string());
  c.max_hosts_per_query = m.int_or<std::size_t>("max_hosts_per_query", c.max_hosts_per_query, 1, 1000);
  if (m.has("tcp")) c.tcp = parse_tcp(m.required("tcp"));
  YamlValue domains = m.required("domains");
  std::set<std::string> names;
  for (const auto& [name, value] : domains.as_entries()) {
    DomainConfig d = parse_domain(name, value);
    if (!names.insert(d.name).second) value.fail("name " + d.name + " is configured twice");
    c.domains.push_back(std::move(d));
  }
  if (c.domains.empty()) domains.fail("needs at least one name");
  return c;
}

}  // namespace

std::string Target::key() const {
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::optional<Target> parse_target(std::string_view text, std::uint16_t default_port) {
  Target t;
  t.port = default_port;
  std::string host;
  if (text.starts_with('[') && text.ends_with(']')) {
    host = text.substr(1, text.size() - 2);  // "[::1]": no port
  } else if (text.starts_with('[') || std::count(text.begin(), text.end(), ':') == 1) {
    auto hp = net::split_host_port(text);
    if (!hp) return std::nullopt;
    host = std::move(hp->host);
    t.port = hp->port;
  } else {
    host = text;  // a bare IPv4 or IPv6 literal
  }
  t.v6 = host.find(':') != std::string::npos;
  char canonical[INET6_ADDRSTRLEN] = {};
  const int family = t.v6 ? AF_INET6 : AF_INET;
  if (inet_pton(family, host.c_str(), t.bytes.data()) != 1) return std::nullopt;
  inet_ntop(family, t.bytes.data(), canonical, sizeof canonical);
  t.ip = canonical;
  return t;
}

DnsConfig parse_dns_config(const std::string& yaml_text, const std::string& file_name) {
  return core::parse_section(yaml_text, file_name, "dns", parse_dns);
}

DnsConfig load_dns_config(const std::string& path) {
  return parse_dns_config(core::read_config_file(path), path);
}

}  // namespace failover::dns
