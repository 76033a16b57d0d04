#include "store/failover_metrics.h"

#include <algorithm>
#include <chrono>

namespace failover::store {

namespace {

// A failover takes about grace + 30 ms here (250 ms with the defaults);
// the buckets are finest around that and reach a slow arbiter's 10 s.
core::Histogram failover_buckets() {
  return core::Histogram{0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10};
}

// A write is one fsync on each node plus a round trip: about a millisecond
// on a quiet disk, up to write_timeout (2 s) when a peer stalls.
core::Histogram write_buckets() {
  return core::Histogram{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

double seconds_between(core::TimePoint a, core::TimePoint b) {
  return std::max(0.0, std::chrono::duration<double>(b - a).count());
}

struct Span {
  core::TimePoint FailoverTiming::*from;
  core::TimePoint FailoverTiming::*to;
};

// Indexed by FailoverPhase.
constexpr std::array<Span, kFailoverPhases> kSpans{{
    {&FailoverTiming::last_beacon, &FailoverTiming::suspected},
    {&FailoverTiming::suspected, &FailoverTiming::cas_granted},
    {&FailoverTiming::cas_granted, &FailoverTiming::reconciled},
    {&FailoverTiming::reconciled, &FailoverTiming::first_write},
    {&FailoverTiming::last_beacon, &FailoverTiming::first_write},
}};

}  // namespace

const char* phase_name(FailoverPhase phase) {
  switch (phase) {
    case FailoverPhase::kDetect: return "detect";
    case FailoverPhase::kCas: return "cas";
    case FailoverPhase::kReconcile: return "reconcile";
    case FailoverPhase::kFirstWrite: return "first_write";
    case FailoverPhase::kTotal: return "total";
  }
  return "total";
}

StoreHistograms::StoreHistograms()
    : phases_{failover_buckets(), failover_buckets(), failover_buckets(), failover_buckets(), failover_buckets()},
      writes_(write_buckets()) {}

void StoreHistograms::observe_failovers(const std::vector<FailoverTiming>& failovers) {
  for (const FailoverTiming& f : failovers) {
    // Epochs only grow along the list, and only the newest failover still
    // changes; an older one was finished with (or will never finish).
    if (f.epoch < epoch_) continue;
    // A promotion with no beacon heard before it (a new cluster's first
    // primary, a restarted primary the record still named) replaced no
    // primary this node lived with: not a failover, and its detection has
    // no start. Counting only the others keeps every phase's count equal.
    if (f.last_beacon == core::TimePoint{}) continue;
    if (f.epoch > epoch_) {
      epoch_ = f.epoch;
      observed_ = 0;
    }
    for (std::size_t i = 0; i < kFailoverPhases; ++i) {
      const core::TimePoint from = f.*kSpans[i].from, to = f.*kSpans[i].to;
      if ((observed_ & (1u << i)) || from == core::TimePoint{} || to == core::TimePoint{}) continue;
      phases_[i].observe(seconds_between(from, to));
      observed_ |= 1u << i;
    }
  }
}

void StoreHistograms::observe_write(core::TimePoint arrived, core::TimePoint acknowledged) {
  writes_.observe(seconds_between(arrived, acknowledged));
}

void StoreHistograms::write(core::MetricsWriter& out) const {
  static constexpr const char* kPhaseHelp =
      "Failovers of this node, phase by phase (detect: last beacon to suspicion; cas: to the arbiter's grant; "
      "reconcile: to serving; first_write: to the first write acknowledged; total: last beacon to first write)";
  for (std::size_t i = 0; i < kFailoverPhases; ++i)
    out.histogram("failover_store_failover_seconds", kPhaseHelp,
                  {{"phase", phase_name(static_cast<FailoverPhase>(i))}}, phases_[i]);
  out.histogram("failover_store_write_seconds", "Acknowledged writes, from arrival at this node to the 200", {},
                writes_);
}

}  // namespace failover::store
