#pragma once
// Reading what clients send the registry API: paths, query strings and JSON
// bodies, checked field by field. Plain functions with no I/O, so that the
// libFuzzer target (fuzz/fuzz_registry_api.cc) runs them on any bytes. Every
// failure is a kInvalid core::Error whose message is meant for the client's 400.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "registry/registry.h"

namespace failover::registry {

// What a path under /v1/ names.
struct Route {
  enum class Kind {
    kServices,       // /v1/services
    kService,        // /v1/services/{service}
    kInstance,       // /v1/services/{service}/instances/{id}
    kHeartbeat,      // /v1/services/{service}/instances/{id}/heartbeat
    kHeartbeats,     // /v1/heartbeats
    kReplicate,      // /v1/internal/replicate   (peers)
    kDump,           // /v1/internal/dump        (peers)
  } kind = Kind::kServices;
  std::string service;
  std::string id;
};

// kNotFound: not an API path (404). kInvalid: a path that names an API
// object with a bad service name or id; the message says what is wrong.
// Service names and ids are percent-decoded before they are checked, so
// "%2F" cannot smuggle a '/' into an id.
core::Result<Route> parse_route(std::string_view path);

// Service: 1 to 64 letters, digits, '_', '-', '.'. Id: 1 to 128 printable
// ASCII characters without '/', '?', '#', '%' or spaces.
std::string service_name_problem(std::string_view name);
std::string instance_id_problem(std::string_view id);

struct InstanceLimits {
  std::chrono::milliseconds min_ttl{100};
  std::chrono::milliseconds max_ttl{24 * 3600 * 1000};
  std::chrono::milliseconds default_ttl{15'000};
  std::size_t max_meta_bytes = 16 * 1024;
};

// {"address":"10.0.0.1","port":8080,"ttl_ms":1000,"meta":{"zone":"a"}}.
// ttl_ms may be left out (default_ttl); meta is an object of string values.
core::Result<InstanceSpec> parse_instance(std::string_view body, const InstanceLimits& limits);

// {"instances":[{"service":"web","id":"web-1"},...]} for POST /v1/heartbeats.
struct InstanceKey {
  std::string service;
  std::string id;
};
core::Result<std::vector<InstanceKey>> parse_heartbeats(std::string_view body, std::size_t max_items);

// {"changes":[{"op":"put","service","id","address","port","ttl_ms","meta","lease_ms"},
//             {"op":"remove","service","id"}, {"op":"fail","service","id"}]} from a peer.
core::Result<std::vector<Change>> parse_changes(std::string_view body, const InstanceLimits& limits);
// The same shape, written.
std::string changes_json(const std::vector<Change>& changes);

// ?index=12&wait=30s&all=1 on GET /v1/services/{service}.
struct ServiceQuery {
  std::optional<std::uint64_t> index;    // a blocking query when present
  std::chrono::milliseconds wait{300'000};
  bool all = false;                      // unhealthy instances too
};
core::Result<ServiceQuery> parse_service_query(std::string_view query, std::chrono::milliseconds max_wait);

// ?healthy=false on PUT .../{id}/heartbeat: a failed check is reported
// (true: an ordinary heartbeat). nullopt on anything else.
std::optional<bool> parse_heartbeat_query(std::string_view query);

// The JSON of a service, as GET /v1/services/{service} answers it.
std::string service_json(const ServiceView& view);

}  // namespace failover::registry
