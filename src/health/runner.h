#pragma once
// The one probe loop every role runs for each checked node (the LB's
// servers, the DNS server's targets, the agent's services): sleep through
// the clock until the schedule says, probe, hand the result to the owner,
// repeat until stopped. The owner keeps the Target and feeds it in
// `on_result`; the loop only reads it back to pick the next interval.
//
// Runs on the caller's executor; `stop` must be requested on that thread.
// After stop, on_result is never called again, so the owner may drop the
// node at once.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <stop_token>

#include "core/clock.h"
#include "health/check_config.h"
#include "health/probe_result.h"
#include "health/target.h"

namespace failover::health {

using ProbeFn = std::function<boost::asio::awaitable<ProbeResult>()>;
// Feeds the result to the node's Target and returns it.
using ResultFn = std::function<const Target&(const ProbeResult&)>;

// `phase` is a random draw in [0, 1) for the first probe (random_phase()).
boost::asio::awaitable<void> run_checks(const core::Clock& clock, CheckConfig check, ProbeFn probe,
                                        ResultFn on_result, std::stop_token stop, double phase);

// A real probe of `traffic` (host and traffic port), on check.port when set.
ProbeFn probe_endpoint(boost::asio::ip::tcp::endpoint traffic, CheckConfig check);

// A draw in [0, 1) from a per-thread generator.
double random_phase();

}  // namespace failover::health
