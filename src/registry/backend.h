#pragma once
// Where the API's writes go. The embedded backend applies them to the local
// Registry (and replication copies them to peers); the etcd backend writes
// them to etcd, whose watch then feeds the local Registry as a mirror. Reads
// (queries, blocking queries) always come from the local Registry.
#include <boost/asio/awaitable.hpp>
#include <string>

#include "registry/registry.h"

namespace failover::registry {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual boost::asio::awaitable<Status> put(const std::string& service, const std::string& id,
                                             const InstanceSpec& spec) = 0;
  virtual boost::asio::awaitable<Status> heartbeat(const std::string& service, const std::string& id) = 0;
  virtual boost::asio::awaitable<Status> remove(const std::string& service, const std::string& id) = 0;
  // A failed check: unhealthy now (Registry::fail).
  virtual boost::asio::awaitable<Status> fail(const std::string& service, const std::string& id) = 0;
  // "embedded" or "etcd", for /status.
  virtual const char* name() const = 0;
  // Why the last write failed, when Status was kUnavailable.
  virtual std::string last_error() const { return {}; }
};

// Writes straight into `registry`.
class EmbeddedBackend final : public Backend {
 public:
  explicit EmbeddedBackend(Registry& registry) : registry_(registry) {}
  boost::asio::awaitable<Status> put(const std::string& service, const std::string& id,
                                     const InstanceSpec& spec) override {
    co_return registry_.put(service, id, spec);
  }
  boost::asio::awaitable<Status> heartbeat(const std::string& service, const std::string& id) override {
    co_return registry_.heartbeat(service, id);
  }
  boost::asio::awaitable<Status> remove(const std::string& service, const std::string& id) override {
    co_return registry_.remove(service, id);
  }
  boost::asio::awaitable<Status> fail(const std::string& service, const std::string& id) override {
    co_return registry_.fail(service, id);
  }
  const char* name() const override { return "embedded"; }

 private:
  Registry& registry_;
};

}  // namespace failover::registry
