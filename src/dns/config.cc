#include "dns/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "core/config_error.h"
#include "core/yaml_util.h"
#include "health/check_yaml.h"
#include "net/dns_codec.h"

namespace failover::dns {
namespace {

using core::YamlMap;
using core::YamlValue;

// Host names as RFC 1123 has them (letters, digits, '-', and '_' which
// service names use), so that the same name is written the same way in the
// config, in DNS questions and in HTTPDNS URLs.
bool valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || !net::dns::Name::from_text(name)) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string domain_name(const YamlValue& where, std::string name) {
  name = lower(std::move(name));
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (!valid_host_name(name))
    where.fail("'" + name + "' is not a host name (letters, digits, '-', '_', dot-separated labels of 1 to 63)");
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

DnsConfig parse_dns(const YamlValue& v) {
  YamlMap m(v, {"http_listen", "dns_listen", "ttl", "threads", "panic", "secret", "nameserver",
                "hostmaster", "max_hosts_per_query", "domains"});
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
  std::string host(text);
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      rest.remove_prefix(1);
      unsigned port = 0;
      auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
      if (ec != std::errc() || ptr != rest.data() + rest.size() || port == 0 || port > 65535) return std::nullopt;
      t.port = static_cast<std::uint16_t>(port);
    }
    t.v6 = true;
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const std::size_t colon = text.find(':');
    host = std::string(text.substr(0, colon));
    std::string_view p = text.substr(colon + 1);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port == 0 || port > 65535) return std::nullopt;
    t.port = static_cast<std::uint16_t>(port);
  } else {
    t.v6 = text.find(':') != std::string_view::npos;
  }
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
