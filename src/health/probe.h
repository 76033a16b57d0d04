#pragma once
// Active probes: one TCP connect, or one HTTP request whose status class is
// checked. Each outcome has its own cause, so /status can say why a server is
// down. Probes never throw; every one ends within `timeout`, as measured on
// the clock given (a test's ManualClock decides when a probe times out).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>

#include "core/clock.h"
#include "health/check_config.h"
#include "health/probe_result.h"

namespace failover::health {

// Runs one probe of `check.type` against `endpoint` on the calling coroutine's
// executor. `check` is a copy: a reload may change the caller's meanwhile.
// The http probe sends `check.raw_request` when set, else "GET uri HTTP/1.1"
// with Host and "Connection: close", reads at most 16 KiB of reply headers,
// and judges the status against `check.expect`.
// `clock` must outlive the probe.
boost::asio::awaitable<ProbeResult> probe(boost::asio::ip::tcp::endpoint endpoint, CheckConfig check,
                                          const core::Clock& clock = core::SteadyClock::instance());

}  // namespace failover::health
