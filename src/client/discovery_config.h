#pragma once
// `discovery: {registry: [URLs], service: NAME}`: nodes that come and go
// with a registry service. Written the same way wherever a role follows the
// registry (an LB upstream, a DNS name). The YAML reader throws
// core::ConfigError.
#include <string>
#include <vector>

#include "core/yaml_util.h"

namespace failover::client {

struct DiscoveryConfig {
  std::vector<std::string> registry;  // registry URLs, http://host:port; the next is used when one fails
  std::string service;
  std::string token;                  // for registries that want one on reads too (optional)
  bool operator==(const DiscoveryConfig&) const = default;
};

// {registry, service, token}.
DiscoveryConfig parse_discovery_yaml(const core::YamlValue& value);

}  // namespace failover::client
