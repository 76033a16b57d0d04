#pragma once
// The registry's layout in etcd: which keys an instance is, and what its
// value holds. Pure (no I/O, no Asio), so the fuzz target links it.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace failover::registry::etcd_keys {

//   {prefix}/services/{service}/instances/{id}  value: the spec as JSON
//       {"address","port","ttl_ms","meta"}, on a lease of ttl + deregister_after
//   {prefix}/services/{service}/alive/{id}      value: "", on a lease of ttl
//
// An instance is healthy iff its alive key exists. service and id must not
// contain '/' (the registry's API refuses them).

enum class KeyKind { kInstance, kAlive };

struct RegistryKey {
  std::string service;
  std::string id;
  KeyKind kind = KeyKind::kInstance;
  bool operator==(const RegistryKey&) const = default;
};

// Every registry key: "{prefix}/services/".
std::string services_prefix(std::string_view prefix);
// Every key of one service: "{prefix}/services/{service}/".
std::string service_prefix(std::string_view prefix, std::string_view service);
std::string instance_key(std::string_view prefix, std::string_view service, std::string_view id);
std::string alive_key(std::string_view prefix, std::string_view service, std::string_view id);
// The inverse of instance_key/alive_key; nullopt for any other key.
std::optional<RegistryKey> split_key(std::string_view prefix, std::string_view key);

// An instance key's value. `meta` is a JSON object's text.
struct InstanceValue {
  std::string address;
  int port = 0;
  std::int64_t ttl_ms = 0;
  std::string meta = "{}";
  bool operator==(const InstanceValue&) const = default;
};
std::string encode_instance_value(const InstanceValue& value);
core::Result<InstanceValue> decode_instance_value(std::string_view text);

// etcd lease TTLs are whole seconds: the ttl rounded up, at least 1 (etcd
// raises it further to its own minimum, which the grant reply tells).
std::int64_t lease_seconds(std::chrono::milliseconds ttl);

}  // namespace failover::registry::etcd_keys
