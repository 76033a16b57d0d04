#pragma once
// `failover drill --config cluster.yaml`: starts the stack (stack.h), or
// attaches to one `failover up` runs (stack_control.h), drives
// client load through the real path (load.h), and one fault at a time kills
// or hangs one component of a layer, waits for the layer that watches it to
// notice, restores it, and waits for that layer to take it back; then
// checks the history of every request (history.h) and reports per fault and
// for the run (drill_result.h). docs/drill.md says what each number means.
#include <chrono>
#include <cstdint>
#include <string>

namespace failover::drill {

struct DrillOptions {
  std::string config;   // the cluster file
  std::string faults;   // "kill:lb-a,stop:primary"; "" for one per layer
  // Drill the stack a `failover up` of the same file runs (through its API
  // on the dashboard address) instead of starting one; it keeps running.
  bool attach = false;
  std::uint64_t seed = 1;
  int clients = 4;
  // A client request that has no answer within this, retries included,
  // counts as failed: the users' patience.
  std::chrono::milliseconds deadline{5'000};
  std::string json_path;    // "" none, "-" stdout
  std::string report_path;  // the HTML report; "" none
  std::string history_path; // every operation as a JSON line; "" none
  std::chrono::milliseconds warmup{2'000};   // load before the first fault
  std::chrono::milliseconds hold{1'000};     // a fault stays this long after it was noticed
  std::chrono::milliseconds settle{1'500};   // after a failback, before the next fault
  std::chrono::milliseconds max_wait{15'000};  // for a detection or a failback
  std::string binary;  // "" for this one
};

// 0 when no request failed, no acknowledged write was lost and no stale
// read was seen; 1 otherwise, or when the stack did not start. Throws
// core::ConfigError for a bad cluster file (exit 2).
int run_drill(const DrillOptions& options);

}  // namespace failover::drill
