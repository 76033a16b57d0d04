#pragma once
// The store's histograms for /metrics: how long each phase of the
// failovers this node lived took, and how long acknowledged writes took.
//
// Each phase is observed once, when it completes, however often /metrics
// is scraped: the owner hands the replica's failovers() over after every
// batch of actions, and what was already counted is skipped. No clock and
// no I/O; a test drives it with FailoverTiming values.
//
// Threads: thread-compatible; the node keeps it on its io thread.
#include <array>
#include <cstdint>
#include <vector>

#include "core/histogram.h"
#include "core/metrics_writer.h"
#include "core/time.h"
#include "store/replica.h"

namespace failover::store {

// The phases, in the order they happen; kTotal spans them all.
enum class FailoverPhase {
  kDetect,      // last beacon heard from the old primary -> the grace ended (suspected)
  kCas,         // suspected -> the arbiter named this node
  kReconcile,   // named -> the whole log committed: serving
  kFirstWrite,  // serving -> the first write of the new epoch acknowledged
  kTotal,       // last beacon -> first write: what a writing client sees
};
inline constexpr std::size_t kFailoverPhases = 5;
const char* phase_name(FailoverPhase phase);

class StoreHistograms {
 public:
  StoreHistograms();

  // Observes every phase of `failovers` (oldest first, as
  // Replica::failovers() gives them) that has completed since the last
  // call. Promotions without a beacon heard before them (last_beacon empty:
  // a new cluster's first primary, a restarted primary) are not failovers
  // and are skipped, so every phase counts the same failovers in the end.
  void observe_failovers(const std::vector<FailoverTiming>& failovers);
  // An acknowledged write, from its arrival at this node to its 200.
  void observe_write(core::TimePoint arrived, core::TimePoint acknowledged);

  const core::Histogram& phase(FailoverPhase p) const { return phases_[static_cast<std::size_t>(p)]; }
  const core::Histogram& writes() const { return writes_; }
  // failover_store_failover_seconds{phase} and failover_store_write_seconds.
  void write(core::MetricsWriter& out) const;

 private:
  std::array<core::Histogram, kFailoverPhases> phases_;
  core::Histogram writes_;
  std::uint64_t epoch_ = 0;  // of the newest failover seen
  unsigned observed_ = 0;    // bit per phase of that failover already counted
};

}  // namespace failover::store
