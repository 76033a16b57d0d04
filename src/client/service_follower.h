#pragma once
// Follows one registry service with blocking queries, for roles whose nodes
// come from the registry (an LB upstream, a DNS name): hands every answer to
// a callback, pauses after a failure, and starts again from index 0 when the
// client moved to another registry node (indexes are per node).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "client/registry_client.h"

namespace failover::client {

struct FollowOptions {
  std::chrono::milliseconds wait{30'000};        // one blocking query
  std::chrono::milliseconds retry_pause{1'000};  // after every registry failed
};

// Runs on the client's executor until `stopped()` returns true (checked
// after every query). `on_result` gets every answer: ok, kNotFound (no such
// service yet: no instances) or a failure (every URL failed; the caller
// should keep the nodes it had, as a registry outage must not empty them).
boost::asio::awaitable<void> follow_service(RegistryClient& client, std::string service,
                                            std::function<bool()> stopped,
                                            std::function<void(const ServiceResult&)> on_result,
                                            FollowOptions options = {});

}  // namespace failover::client
