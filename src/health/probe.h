#pragma once
// Active probes: one TCP connect, or one HTTP request whose status class is
// checked. Each outcome has its own cause, so /status can say why a server is
// down. Probes never throw; every one ends within `timeout`.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>

#include "health/check_config.h"

namespace failover::health {

enum class Cause {
  kOk,
  kRefused,      // connection refused
  kTimeout,      // no connect or no complete reply within the timeout
  kReset,        // connection reset or closed before a complete reply
  kBadStatus,    // a reply whose status is not in `expect`
  kBadResponse,  // bytes that are not an HTTP response
  kError,        // any other socket error
};

const char* cause_name(Cause c);  // "ok", "refused", "timeout", "reset", "bad_status", "bad_response", "error"

struct ProbeResult {
  bool ok = false;
  Cause cause = Cause::kError;
  int status = 0;                       // http: the status seen, 0 if none
  std::chrono::milliseconds latency{0};
  std::string detail;                   // e.g. the error message; empty when ok
};

// Runs one probe of `check.type` against `endpoint` on the calling coroutine's
// executor. `check` is a copy: a reload may change the caller's meanwhile.
// The http probe sends `check.raw_request` when set, else "GET uri HTTP/1.1"
// with Host and "Connection: close", reads at most 16 KiB of reply headers,
// and judges the status against `check.expect`.
boost::asio::awaitable<ProbeResult> probe(boost::asio::ip::tcp::endpoint endpoint,
                                          CheckConfig check);

}  // namespace failover::health
