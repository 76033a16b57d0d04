#include "drill/cluster_config.h"

#include <map>
#include <set>

#include "core/config_error.h"
#include "core/yaml_util.h"
#include "store/config.h"

namespace failover::drill {
namespace {

using core::YamlMap;
using core::YamlValue;
using std::chrono::milliseconds;

constexpr milliseconds kHour{3'600'000};

std::string port_of(const std::string& address) { return address.substr(address.rfind(':') + 1); }

// Names and addresses seen so far: every component needs a name of its own
// and no two components may listen on the same address.
class Registry {
 public:
  std::string name(const YamlValue& key_value, const std::string& name) {
    if (!core::plain_name(name)) key_value.fail("name \"" + name + "\" " + core::kPlainNameRule);
    if (!names_.insert(name).second) key_value.fail("the name " + name + " is already used by another component");
    return name;
  }

  // `required`: an empty value is a mistake; otherwise it means "none".
  std::string address(const YamlMap& m, std::string_view key, const std::string& owner, bool required = true) {
    if (!required && !m.has(key)) return "";
    const YamlValue v = m.required(key);
    const std::string a = v.as_string();
    if (a.empty() && !required) return "";
    if (std::string problem = core::address_problem(a); !problem.empty())
      v.fail("bad address \"" + a + "\": " + problem);
    if (const std::string* other = claim(a, owner)) v.fail(a + " is already used by " + *other);
    return a;
  }

  // Null when `address` was free; else who has it.
  const std::string* claim(const std::string& address, const std::string& owner) {
    auto [it, fresh] = used_.emplace(address, owner);
    return fresh ? nullptr : &it->second;
  }

 private:
  std::set<std::string> names_;
  std::map<std::string, std::string> used_;  // address -> the component that listens there
};

// Every entry of a `nodes:` (or `instances:`) map: a name of its own, the
// keys `read` takes (plus `proxy`, which any component may have), at least
// one entry.
template <class Spec, class Read>
std::vector<Spec> parse_named(const YamlValue& nodes, Registry& reg, std::initializer_list<std::string_view> keys,
                              const std::string& what, Read read) {
  std::vector<Spec> out;
  for (const auto& [name, spec] : nodes.as_entries()) {
    YamlMap n(spec, keys);
    Spec s;
    s.name = reg.name(spec, name);
    read(n, s);
    s.proxy = reg.address(n, "proxy", name + "'s proxy", /*required=*/false);
    out.push_back(std::move(s));
  }
  if (out.empty()) nodes.fail("must name at least one " + what);
  return out;
}

void parse_cluster(const YamlValue& v, ClusterConfig& c, Registry& reg) {
  YamlMap m(v, {"dir", "dashboard", "check", "start_timeout"});
  const YamlValue dir = m.required("dir");
  c.dir = dir.as_string();
  if (c.dir.empty()) dir.fail("must name a directory (configs, data and logs go there)");
  if (m.has("dashboard")) c.dashboard = reg.address(m, "dashboard", "the dashboard");
  else reg.claim(c.dashboard, "the dashboard");  // the first claim: always free
  c.start_timeout = m.duration_or("start_timeout", c.start_timeout, milliseconds(100), kHour);
  if (m.has("check")) {
    YamlMap k(m.required("check"), {"interval", "rise", "fall", "timeout"});
    c.check.interval = k.duration_or("interval", c.check.interval, milliseconds(1), kHour);
    c.check.rise = k.int_or("rise", c.check.rise, 1, 1000);
    c.check.fall = k.int_or("fall", c.check.fall, 1, 1000);
    c.check.timeout = k.duration_or("timeout", c.check.timeout, milliseconds(1), kHour);
  }
}

void parse_store(const YamlValue& v, ClusterConfig& c, Registry& reg) {
  YamlMap m(v, {"heartbeat", "lease", "nodes"});
  if (m.has("heartbeat")) {
    YamlMap h(m.required("heartbeat"), {"interval", "timeout"});
    c.heartbeat_interval = h.duration_or("interval", c.heartbeat_interval, milliseconds(1), kHour);
    c.heartbeat_timeout = h.duration_or("timeout", c.heartbeat_timeout, milliseconds(1), kHour);
    if (c.heartbeat_timeout < 3 * c.heartbeat_interval) h.fail("timeout", "must be at least 3 x interval");
  }
  c.lease = m.duration_or("lease", c.lease, milliseconds(1), kHour);
  if (c.lease > store::max_safe_lease(c.heartbeat_timeout))
    m.fail("lease", "is not safely shorter than heartbeat.timeout: at most " +
                        std::to_string(store::max_safe_lease(c.heartbeat_timeout).count()) + "ms");
  const YamlValue nodes = m.required("nodes");
  c.store_nodes = parse_named<StoreNodeSpec>(nodes, reg, {"listen", "peer_listen", "proxy"}, "node",
                                             [&](const YamlMap& n, StoreNodeSpec& s) {
                                               s.listen = reg.address(n, "listen", s.name);
                                               s.peer_listen = reg.address(n, "peer_listen", s.name);
                                             });
  if (c.store_nodes.size() != 2) nodes.fail("must name two nodes, a primary and a backup");
}

void parse_service(const YamlValue& v, ClusterConfig& c, Registry& reg) {
  YamlMap m(v, {"name", "ttl", "instances"});
  c.service = m.string_or("name", c.service);
  if (!core::plain_name(c.service)) m.fail("name", core::kPlainNameRule);
  c.service_ttl = m.duration_or("ttl", c.service_ttl, milliseconds(100), kHour);
  c.instances = parse_named<InstanceSpec>(m.required("instances"), reg, {"listen", "agent", "proxy"}, "instance",
                                          [&](const YamlMap& n, InstanceSpec& s) {
                                            s.listen = reg.address(n, "listen", s.name);
                                            s.agent = reg.address(n, "agent", s.name + "'s agent");
                                          });
}

void parse_lb(const YamlValue& v, ClusterConfig& c, Registry& reg) {
  YamlMap m(v, {"nodes"});
  const YamlValue nodes = m.required("nodes");
  c.lbs = parse_named<LbSpec>(nodes, reg, {"listen", "admin", "proxy"}, "load balancer",
                              [&](const YamlMap& n, LbSpec& s) {
                                s.listen = reg.address(n, "listen", s.name);
                                s.admin = reg.address(n, "admin", s.name);
                              });
  // DNS answers IPs; clients bring the LBs' one port.
  std::size_t i = 0;
  for (const auto& [name, spec] : nodes.as_entries()) {
    const LbSpec& s = c.lbs[i++];
    if (!s.proxy.empty() && port_of(s.proxy) != port_of(s.listen))
      YamlMap(spec, {"listen", "admin", "proxy"})
          .fail("proxy", "must use the LB's own port (" + port_of(s.listen) + "): DNS names the proxy's IP, not its port");
  }
}

void parse_dns(const YamlValue& v, ClusterConfig& c, Registry& reg) {
  YamlMap m(v, {"name", "ttl", "nodes"});
  c.dns_name = m.string_or("name", c.dns_name);
  if (c.dns_name.empty()) m.fail("name", "must be a domain name");
  c.dns_ttl = m.int_or("ttl", c.dns_ttl, 0, 86'400);
  c.dns_nodes = parse_named<DnsSpec>(m.required("nodes"), reg, {"http_listen", "dns_listen", "proxy"}, "DNS server",
                                     [&](const YamlMap& n, DnsSpec& s) {
                                       s.http_listen = reg.address(n, "http_listen", s.name);
                                       s.dns_listen = reg.address(n, "dns_listen", s.name, /*required=*/false);
                                     });
}

ClusterConfig parse(const std::string& text, const std::string& file) {
  ClusterConfig c;
  c.source = file;
  const YAML::Node root = core::parse_yaml(text, file);
  if (!root.IsMap()) core::fail_config(file, std::max(core::yaml_line(root), 1), "expected a map with a cluster: section");
  YamlMap top(root, file, "", {"cluster", "witness", "store", "registry", "service", "lb", "dns"});
  Registry reg;
  parse_cluster(top.required("cluster"), c, reg);
  {
    const YamlValue w = top.required("witness");
    YamlMap m(w, {"listen", "proxy"});
    c.witness.listen = reg.address(m, "listen", "the witness");
    c.witness.proxy = reg.address(m, "proxy", "the witness's proxy", /*required=*/false);
    reg.name(w, c.witness.name);
  }
  parse_store(top.required("store"), c, reg);
  {
    YamlMap m(top.required("registry"), {"nodes"});
    c.registry_nodes = parse_named<NamedAddress>(m.required("nodes"), reg, {"listen", "proxy"}, "node",
                                                 [&](const YamlMap& n, NamedAddress& s) {
                                                   s.listen = reg.address(n, "listen", s.name);
                                                 });
  }
  parse_service(top.required("service"), c, reg);
  parse_lb(top.required("lb"), c, reg);
  parse_dns(top.required("dns"), c, reg);
  return c;
}

}  // namespace

ClusterConfig parse_cluster_config(const std::string& yaml_text, const std::string& file_name) {
  try {
    return parse(yaml_text, file_name);
  } catch (const YAML::Exception& e) {
    throw core::ConfigError(file_name, e.mark.line >= 0 ? e.mark.line + 1 : 1, "invalid YAML: " + e.msg);
  }
}

ClusterConfig load_cluster_config(const std::string& path) {
  return parse_cluster_config(core::read_config_file(path), path);
}

}  // namespace failover::drill
