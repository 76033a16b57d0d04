#pragma once
// Follows one registry service with blocking queries, for roles whose nodes
// come from the registry (an LB upstream, a DNS name): hands every answer to
// a callback, pauses after a failure, and starts again from index 0 when the
// client moved to another registry node (indexes are per node).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>

#include "client/registry_client.h"
#include "core/clock.h"

namespace failover::client {

struct FollowOptions {
  std::chrono::milliseconds wait{30'000};        // one blocking query
  std::chrono::milliseconds retry_pause{1'000};  // after every registry failed
};

// Runs on the client's executor until `stop` is requested: checked after
// every query, and a pause (slept on `clock`, which must outlive the loop)
// ends at once; a query in flight runs to its end first. `on_result` gets
// every answer: ok, kNotFound (no such service yet: no instances) or a
// failure (every URL failed; the caller should keep the nodes it had, as a
// registry outage must not empty them). Request the stop on the executor's
// thread (it cancels a timer).
boost::asio::awaitable<void> follow_service(const core::Clock& clock, RegistryClient& client,
                                            std::string service, std::stop_token stop,
                                            std::function<void(const ServiceResult&)> on_result,
                                            FollowOptions options = {});

}  // namespace failover::client
