#pragma once
// What a drill measured (drill.h runs it, this says it): per fault, when it
// was noticed, taken over and taken back, and what the clients saw; for the
// run, the requests, the history's verdict and the SLA. Printed as a table
// for people and as JSON for machines.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "drill/drill_plan.h"
#include "drill/history.h"
#include "drill/load.h"
#include "drill/stack.h"

namespace failover::drill {

using Millis = std::chrono::milliseconds;

struct FaultResult {
  FaultStep step;
  std::string component;  // the target resolved ("primary" -> "store-a")
  ComponentKind kind = ComponentKind::kStore;
  std::string watched_by;  // who notices it: "dns-1, dns-2", "clients"
  Millis at{0};            // since the load started
  std::optional<Millis> detected;    // from the fault to the watcher seeing it
  std::optional<Millis> failed_over; // to the traffic or the role moved (= detected but for the store)
  std::optional<Millis> restored;    // from the fault to the restart ready or the SIGCONT
  std::optional<Millis> failed_back; // from restored to the watchers taking it back
  FaultBounds bounds;
  std::uint64_t reads_failed = 0, writes_failed = 0;
  Millis outage{0};  // client time inside failed requests, overlaps merged
  std::string note;  // what went wrong in the drill itself, if anything

  bool detected_in_bound() const { return !bounds.detect || (detected && *detected <= *bounds.detect); }
  bool failed_back_in_bound() const { return !bounds.failback || (failed_back && *failed_back <= *bounds.failback); }
};

struct DrillResult {
  std::string cluster;
  std::uint64_t seed = 1;
  int clients = 0;
  Millis duration{0};  // of the load
  std::uint64_t reads = 0, writes = 0, reads_failed = 0, writes_failed = 0, retried = 0;
  Millis latency_p50{0}, latency_p99{0}, latency_max{0};  // of the requests answered, retries included
  std::vector<FaultResult> faults;
  std::size_t operations = 0;
  std::uint64_t lost_writes = 0;  // acknowledged, then missing from the final reads
  std::uint64_t stale_reads = 0;
  std::vector<Violation> violations;
  std::vector<LoadSecond> timeline;
  std::vector<StackEvent> events;  // times since the load started
  std::vector<std::string> failures;  // the first failed requests, for people

  Millis outage() const;
  // MTBF / (MTBF + MTTR) over the run, MTBF = duration / faults, MTTR = the
  // mean client outage per fault.
  double availability() const;
  // The outage of the run scaled to a day, against five nines' 864 ms.
  Millis outage_per_day() const;
  // No idempotent request failed (every write carries an idempotency key),
  // no acknowledged write lost, no stale read.
  bool passed() const { return reads_failed == 0 && writes_failed == 0 && lost_writes == 0 && violations.empty(); }
};

// Acknowledged writes that the final reads (client "final") prove lost: the
// final value of the key was written before the acknowledged write began,
// or the key reads as absent.
std::uint64_t count_lost_writes(const std::vector<Operation>& history);

// Merged length of the failed requests' intervals in [from, to).
Millis failed_time(const std::vector<FailedRequest>& failures, core::TimePoint from, core::TimePoint to);

// One fault's row as text, as the terminal's table and the HTML report
// show it: "410 ms", "<=850", "-" where nothing was measured or bounded.
struct FaultRow {
  std::string fault, watched_by, detected, detect_bound, failed_over, failed_back, failback_bound, reads_failed,
      writes_failed, outage;
  bool over_bound = false;
};
FaultRow fault_row(const FaultResult& f);

std::string drill_table(const DrillResult& r);
std::string drill_json(const DrillResult& r);

}  // namespace failover::drill
