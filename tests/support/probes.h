#pragma once
// Probe results as a health check would report them, for tests that feed
// state machines (health::Target, lb::Control, dns::Zone, the agent) by hand.
// Latency is 1 ms: nonzero, as a real probe's is.
#include <chrono>
#include <string>

#include "health/probe_result.h"

namespace failover::test {

inline health::ProbeResult pass(int status = 200) {
  return {true, health::Cause::kOk, status, std::chrono::milliseconds(1), ""};
}
inline health::ProbeResult refused() {
  return {false, health::Cause::kRefused, 0, std::chrono::milliseconds(1), "connection refused"};
}
inline health::ProbeResult timed_out() {
  return {false, health::Cause::kTimeout, 0, std::chrono::milliseconds(1), "timed out"};
}
inline health::ProbeResult reset() {
  return {false, health::Cause::kReset, 0, std::chrono::milliseconds(1), "connection reset by peer"};
}
inline health::ProbeResult bad_status(int status = 503) {
  return {false, health::Cause::kBadStatus, status, std::chrono::milliseconds(1), "status " + std::to_string(status)};
}
// pass() when `ok`, refused() otherwise.
inline health::ProbeResult probe(bool ok) { return ok ? pass() : refused(); }

}  // namespace failover::test
