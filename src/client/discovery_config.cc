#include "client/discovery_config.h"

#include "net/url.h"

namespace failover::client {

DiscoveryConfig parse_discovery_yaml(const core::YamlValue& v) {
  core::YamlMap m(v, {"registry", "service", "token"});
  DiscoveryConfig d;
  core::YamlValue registry = m.required("registry");
  for (const core::YamlValue& u : registry.as_list_or_scalar()) {
    const std::string url = u.as_string();
    if (auto parsed = net::parse_http_url(url); !parsed.ok()) u.fail("bad URL \"" + url + "\": " + parsed.error().message);
    d.registry.push_back(url);
  }
  if (d.registry.empty()) registry.fail("needs at least one registry URL");
  core::YamlValue service = m.required("service");
  d.service = service.as_string();
  if (!core::plain_name(d.service)) service.fail(std::string("service name ") + core::kPlainNameRule);
  d.token = m.string_or("token", "");
  return d;
}

}  // namespace failover::client
