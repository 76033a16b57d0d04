#pragma once
// What one active probe found, shared by every role's /status. Plain C++:
// the parsers that the fuzz build links may use it.
#include <chrono>
#include <string>

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

}  // namespace failover::health
