#pragma once
// The etcd backend: instances live in etcd, so several registry nodes (on
// several machines) share one truth and etcd's own replication makes it
// highly available. Each instance is two keys (see etcd_keys.h):
//   {prefix}/services/{service}/instances/{id}  its spec, on a lease of ttl + deregister_after
//   {prefix}/services/{service}/alive/{id}      empty, on a lease of ttl: healthy while it exists
// A heartbeat keeps both leases alive; when the alive lease runs out etcd
// deletes the key (unhealthy), and the spec goes deregister_after later.
// The local Registry is a mirror fed by one etcd watch on the prefix, so
// queries and blocking queries work exactly as with the embedded backend.
//
// etcd leases count whole seconds and etcd raises short ones to its minimum
// (2 s with the default election timeout), so ttl_ms is rounded up.
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "core/clock.h"
#include "registry/backend.h"
#include "registry/config.h"

namespace failover::registry {

class EtcdBackend final : public Backend {
 public:
  // Its pauses (resync after a broken watch, a write waiting for the
  // mirror) sleep on `clock`, which must outlive the backend's coroutines.
  EtcdBackend(boost::asio::io_context& io, Registry& mirror, const RegistryConfig& config,
              const core::Clock& clock);
  ~EtcdBackend() override;

  // Loads the current state into the mirror and starts the watch; on the io thread.
  void start();

  boost::asio::awaitable<Status> put(const std::string& service, const std::string& id,
                                     const InstanceSpec& spec) override;
  boost::asio::awaitable<Status> heartbeat(const std::string& service, const std::string& id) override;
  boost::asio::awaitable<Status> remove(const std::string& service, const std::string& id) override;
  boost::asio::awaitable<Status> fail(const std::string& service, const std::string& id) override;
  const char* name() const override { return "etcd"; }
  std::string last_error() const override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace failover::registry
