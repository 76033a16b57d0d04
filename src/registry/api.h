#pragma once
// The registry's HTTP API (see docs/registry.md): routes, auth,
// blocking queries. Runs on the registry's single io thread, like the
// Registry it reads.
#include <boost/asio/awaitable.hpp>

#include "core/clock.h"
#include "net/http_server.h"
#include "registry/api_parse.h"
#include "registry/backend.h"
#include "registry/config.h"

namespace failover::core {
class MetricsWriter;
}

namespace failover::registry {

class Replication;

class Api {
 public:
  // `replication` may be null (no peers, or the etcd backend). Blocking
  // queries wait on `clock`, which must outlive the Api.
  Api(const core::Clock& clock, Registry& registry, Backend& backend,
      const RegistryConfig& config, Replication* replication);

  boost::asio::awaitable<net::HttpResponse> handle(net::HttpRequest request);

  struct Counters {
    std::uint64_t requests = 0, blocking_queries = 0, unauthorized = 0, bad_requests = 0;
    int waiting = 0;  // blocking queries parked right now
  };
  const Counters& counters() const { return counters_; }

 private:
  boost::asio::awaitable<net::HttpResponse> route(const net::HttpRequest& request);
  boost::asio::awaitable<net::HttpResponse> get_service(const std::string& service, std::string_view query);
  boost::asio::awaitable<net::HttpResponse> heartbeats(const net::HttpRequest& request);
  net::HttpResponse services() const;
  net::HttpResponse replicate(const net::HttpRequest& request);
  net::HttpResponse dump() const;
  bool authorized(const net::HttpRequest& request) const;

  const core::Clock& clock_;
  Registry& registry_;
  Backend& backend_;
  const RegistryConfig& config_;
  Replication* replication_;
  InstanceLimits instance_limits_;
  Counters counters_;
};

// GET /status and GET /metrics of a registry node.
std::string status_json(const Registry& registry, const Api& api, const Backend& backend,
                        const RegistryConfig& config, const Replication* replication);
void metrics(core::MetricsWriter& out, const Registry& registry, const Api& api, const Replication* replication);

}  // namespace failover::registry
