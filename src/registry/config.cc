#include "registry/config.h"

#include "core/config_error.h"
#include "core/yaml_util.h"
#include "net/url.h"

namespace failover::registry {
namespace {

using core::YamlMap;
using core::YamlValue;
using std::chrono::milliseconds;

constexpr milliseconds kDay{24 * 3600 * 1000};

std::string http_url(const YamlValue& v) {
  std::string url = v.as_string();
  const core::Result<net::HttpUrl> parsed = net::parse_http_url(url);
  if (!parsed) v.fail("bad URL \"" + url + "\": " + parsed.error().message);
  return url;
}

BackendConfig parse_backend(const YamlValue& v) {
  YamlMap m(v, {"type", "endpoints", "prefix"});
  BackendConfig b;
  const std::string type = m.string_or("type", "embedded");
  if (type == "etcd") b.type = BackendType::kEtcd;
  else if (type != "embedded") m.fail("type", "must be embedded or etcd, not '" + type + "'");
  if (m.has("endpoints"))
    for (const YamlValue& e : m.required("endpoints").as_list_or_scalar()) b.endpoints.push_back(http_url(e));
  if (b.type == BackendType::kEtcd && b.endpoints.empty())
    m.fail("endpoints", "the etcd backend needs endpoints (e.g. [http://127.0.0.1:2379])");
  b.prefix = m.string_or("prefix", b.prefix);
  if (b.prefix.empty() || b.prefix.front() != '/') m.fail("prefix", "must start with '/'");
  return b;
}

void parse_limits(const YamlValue& v, RegistryConfig& c) {
  YamlMap m(v, {"max_services", "max_instances_per_service", "min_ttl", "max_ttl", "max_wait",
                "max_body_size"});
  RegistryOptions& o = c.options;
  o.max_services = m.int_or<std::size_t>("max_services", o.max_services, 1, 1'000'000);
  o.max_instances_per_service =
      m.int_or<std::size_t>("max_instances_per_service", o.max_instances_per_service, 1, 1'000'000);
  o.min_ttl = m.duration_or("min_ttl", o.min_ttl, milliseconds(10), kDay);
  o.max_ttl = m.duration_or("max_ttl", o.max_ttl, milliseconds(10), kDay);
  if (o.max_ttl < o.min_ttl) m.fail("max_ttl", "must not be below min_ttl");
  c.max_wait = m.duration_or("max_wait", c.max_wait, milliseconds(1), kDay);
  c.max_body_size = m.size_or("max_body_size", c.max_body_size, 1024, 256u << 20);
}

RegistryConfig parse_registry(const YamlValue& v) {
  YamlMap m(v, {"listen", "peers", "token", "backend", "deregister_after", "protect_threshold",
                "default_ttl", "limits"});
  RegistryConfig c;
  c.source = v.file;
  if (m.has("listen")) {
    YamlValue a = m.required("listen");
    c.listen = a.as_string();
    if (std::string problem = core::address_problem(c.listen); !problem.empty())
      a.fail("bad address \"" + c.listen + "\": " + problem);
  }
  if (m.has("peers"))
    for (const YamlValue& p : m.required("peers").as_list_or_scalar()) c.peers.push_back(http_url(p));
  c.token = m.string_or("token", "");
  if (m.has("backend")) c.backend = parse_backend(m.required("backend"));
  if (c.backend.type == BackendType::kEtcd && !c.peers.empty())
    m.fail("peers", "peers are for the embedded backend; with etcd every node shares the cluster");
  c.options.deregister_after =
      m.duration_or("deregister_after", c.options.deregister_after, milliseconds(0), kDay);
  if (m.has("protect_threshold")) {
    YamlValue t = m.required("protect_threshold");
    const std::string text = t.as_string();
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(value >= 0.0 && value <= 1.0))
      t.fail("must be a number from 0 to 1 (the healthy share under which every instance is listed)");
    c.options.protect_threshold = value;
  }
  if (m.has("limits")) parse_limits(m.required("limits"), c);
  c.default_ttl = m.duration_or("default_ttl", c.default_ttl, c.options.min_ttl, c.options.max_ttl);
  return c;
}

}  // namespace

RegistryConfig parse_registry_config(const std::string& yaml_text, const std::string& file_name) {
  return core::parse_section(yaml_text, file_name, "registry", parse_registry);
}

RegistryConfig load_registry_config(const std::string& path) {
  return parse_registry_config(core::read_config_file(path), path);
}

}  // namespace failover::registry
