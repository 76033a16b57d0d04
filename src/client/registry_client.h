#pragma once
// A C++ client for the registry's HTTP API (docs: ../shared/DESIGN.md,
// "Registry"): register, heartbeat, deregister, read and watch a service.
// Used by `failover agent`, the LB's discovery and applications, which may
// link failover_client alone (it needs only net and core).
//
// High availability: the client takes every registry node's URL and talks to
// one of them, current(), until a request to it fails (connection error,
// timeout or a 5xx); then it moves to the next URL and sends the same call
// there, trying each URL at most once per call. A 4xx is the registry's
// answer, not a failure of the node, and never moves the client.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace failover::client {

// Every call returns a core::Result; its Error's message says which URL and
// why, its code what happened:
//   kNotFound      404: the registry does not know this instance (heartbeat:
//                  register again) or service (get/watch: no instances yet)
//   kUnauthorized  401 or 403: a missing or wrong token
//   kInvalid       another 4xx (bad input), a name the client refuses to
//                  send, or a 2xx whose body is not the JSON the API
//                  promises: retrying the same call will not help
//   kUnavailable   no registry answered: every URL failed (connection, 5xx)
//   kTimeout       no registry answered, and the last URL tried timed out (or
//                  lost the connection after the call was sent): a write
//                  may or may not have been applied
//   kCancelled     the caller cancelled the call (e.g. a watch being stopped)
using core::Result;

// What an instance registers. `meta` is a JSON object as text; it must parse
// as an object, or the call ends with kInvalid before anything is sent.
struct InstanceSpec {
  std::string address;  // IP or host name the callers should connect to
  int port = 0;
  std::chrono::milliseconds ttl{15'000};  // healthy while heartbeats come within this
  std::string meta = "{}";
};

struct InstanceKey {
  std::string service;
  std::string id;
  bool operator==(const InstanceKey&) const = default;
};

struct Registered {
  std::uint64_t index = 0;  // the service's index after the write; 0 if the reply lacked it
  bool created = false;     // 201: the instance was new (200: replaced)
};

struct HeartbeatMany {
  int renewed = 0;
  std::vector<InstanceKey> unknown;  // not known to the registry: register them again
};

struct ServiceInstance {
  std::string id;
  std::string address;
  int port = 0;
  std::string meta = "{}";  // JSON object as text
  bool healthy = true;
};

struct ServiceState {
  std::uint64_t index = 0;      // pass to watch() to wait for the next change
  bool protected_mode = false;  // too few healthy: every instance is listed, each with its true `healthy`
  double healthy_ratio = 1.0;
  std::vector<ServiceInstance> instances;
};

// kNotFound from get()/watch() means an unknown service, which callers
// should treat as "no instances" (an empty ServiceState, index 0).
using ServiceResult = Result<ServiceState>;
// The state in `r`, or an empty one (index 0, no instances) when r failed.
const ServiceState& state_of(const ServiceResult& r);

struct RegistryClientOptions {
  // For every call but watch(); with n URLs a failing call can take n times this.
  std::chrono::milliseconds request_timeout{2'000};
  // watch()'s HTTP timeout is `wait` plus this, so a registry that holds the
  // query for the full `wait` is not mistaken for a dead one.
  std::chrono::milliseconds watch_margin{2'000};
  // watch() on an unknown service (the registry answers 404 at once) waits
  // min(wait, this) before returning, so a watch loop does not spin.
  std::chrono::milliseconds unknown_service_delay{1'000};
  // What that wait and every call's timeout run on; must outlive the client.
  const core::Clock* clock = &core::SteadyClock::instance();
};

// Bound to `executor`, whose io_context runs on one thread; every call must
// be made from that thread (not thread-safe). Calls may overlap, e.g. a
// watch() and heartbeats. The client must outlive the calls it has started.
// Service names and ids must be printable ASCII without space, '/', '?', '#'
// or '%' (they go into the URL path as they are); others give kInvalid.
class RegistryClient {
 public:
  // `registry_urls`: "http://host:port[/prefix]", at least one. Writes carry
  // "Authorization: Bearer <token>" when `token` is not empty. Throws
  // std::invalid_argument for an empty list or a malformed URL (start-up).
  RegistryClient(boost::asio::any_io_executor executor, std::vector<std::string> registry_urls,
                 std::string token = "", RegistryClientOptions options = {});
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // PUT /v1/services/{service}/instances/{id}. Registering again replaces
  // the spec and renews the lease.
  boost::asio::awaitable<Result<Registered>> register_instance(std::string service, std::string id,
                                                           InstanceSpec spec);
  // PUT .../{id}/heartbeat. kNotFound: the registry forgot the instance
  // (restart, expiry): register it again.
  boost::asio::awaitable<Result<void>> heartbeat(std::string service, std::string id);
  // PUT .../{id}/heartbeat?healthy=false: the instance's own check failed;
  // the registry marks it unhealthy at once instead of a ttl later.
  // Heartbeats revive it. kNotFound as for heartbeat().
  boost::asio::awaitable<Result<void>> report_failed(std::string service, std::string id);
  // POST /v1/heartbeats: many instances in one request.
  boost::asio::awaitable<Result<HeartbeatMany>> heartbeat_many(std::vector<InstanceKey> instances);
  // DELETE /v1/services/{service}/instances/{id}. kNotFound: already gone.
  boost::asio::awaitable<Result<void>> deregister(std::string service, std::string id);
  // GET /v1/services/{service}: the current state, at once.
  boost::asio::awaitable<ServiceResult> get(std::string service);
  // GET /v1/services/{service}?index=N&wait=W: a blocking query. Returns when
  // the service's index passes `index`, or after about `wait` with the same
  // index (then nothing changed). Pass 0 to get the state at once. The HTTP
  // timeout is wait + watch_margin. kNotFound (unknown service) returns after
  // min(wait, unknown_service_delay); kUnavailable returns as soon as every
  // URL failed, so a watch loop should pause before asking again.
  boost::asio::awaitable<ServiceResult> watch(std::string service, std::uint64_t index,
                                              std::chrono::milliseconds wait);

  // The URL in use, as given to the constructor.
  const std::string& current() const;

 private:
  // PUT .../{id}{suffix}: a heartbeat or a failed check.
  boost::asio::awaitable<Result<void>> beat(std::string service, std::string id, std::string_view suffix);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace failover::client
