#pragma once
// `failover registry` configuration (the `registry:` section).
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "registry/registry.h"

namespace failover::registry {

enum class BackendType { kEmbedded, kEtcd };

struct BackendConfig {
  BackendType type = BackendType::kEmbedded;
  std::vector<std::string> endpoints;  // etcd client URLs, http://host:port
  std::string prefix = "/failover";    // etcd key prefix
};

struct RegistryConfig {
  std::string listen = "127.0.0.1:8500";  // API, /status, /metrics, dashboard
  std::vector<std::string> peers;         // other registry nodes, http://host:port
  std::string token;                      // empty: writes need no token
  BackendConfig backend;
  RegistryOptions options;                // leases, protection, limits
  std::chrono::milliseconds default_ttl{15'000};  // a registration without ttl_ms (Nacos: 15 s)
  std::chrono::milliseconds max_wait{300'000};    // longest blocking query
  std::size_t max_body_size = 1024 * 1024;        // one request body (POST /v1/heartbeats is the big one)
  std::string source;                     // the file it came from
};

// Reads `path` (YAML with a `registry:` section). Throws core::ConfigError.
RegistryConfig load_registry_config(const std::string& path);
RegistryConfig parse_registry_config(const std::string& yaml_text, const std::string& file_name);

}  // namespace failover::registry
