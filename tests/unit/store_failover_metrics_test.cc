// The store's failover-phase and write histograms (store/failover_metrics.h):
// each phase is counted once, when it completes, however often the node
// hands over its failovers or /metrics is scraped; and a failover in the
// simulated cluster (store_sim.h) lands in the buckets its timing says.
#include <gtest/gtest.h>

#include "store/failover_metrics.h"
#include "store_sim.h"

namespace failover::test {
namespace {

using store::FailoverPhase;
using store::FailoverTiming;
using store::StoreHistograms;

std::uint64_t count(const StoreHistograms& h, FailoverPhase p) { return h.phase(p).count(); }

TEST(StoreFailoverMetrics, EachPhaseIsObservedOnceWhenItCompletes) {
  const core::TimePoint t0 = core::TimePoint(std::chrono::hours(5));
  std::vector<FailoverTiming> failovers{{.epoch = 3, .suspected = t0 + 250ms, .cas_granted = t0 + 270ms,
                                         .last_beacon = t0}};
  StoreHistograms h;
  h.observe_failovers(failovers);
  h.observe_failovers(failovers);  // nothing new: nothing counted again
  EXPECT_EQ(count(h, FailoverPhase::kDetect), 1u);
  EXPECT_DOUBLE_EQ(h.phase(FailoverPhase::kDetect).sum(), 0.25);
  EXPECT_EQ(count(h, FailoverPhase::kCas), 1u);
  EXPECT_NEAR(h.phase(FailoverPhase::kCas).sum(), 0.02, 1e-9);
  EXPECT_EQ(count(h, FailoverPhase::kReconcile), 0u);
  EXPECT_EQ(count(h, FailoverPhase::kFirstWrite), 0u);
  EXPECT_EQ(count(h, FailoverPhase::kTotal), 0u);

  failovers.back().reconciled = t0 + 280ms;
  h.observe_failovers(failovers);
  EXPECT_EQ(count(h, FailoverPhase::kReconcile), 1u);
  EXPECT_EQ(count(h, FailoverPhase::kCas), 1u);

  failovers.back().first_write = t0 + 300ms;
  h.observe_failovers(failovers);
  h.observe_failovers(failovers);
  EXPECT_EQ(count(h, FailoverPhase::kFirstWrite), 1u);
  EXPECT_EQ(count(h, FailoverPhase::kTotal), 1u);
  EXPECT_NEAR(h.phase(FailoverPhase::kTotal).sum(), 0.3, 1e-9);

  // The next failover is counted on its own; the finished one is not again.
  failovers.push_back({.epoch = 5, .suspected = t0 + 10s, .cas_granted = t0 + 10s + 5ms, .last_beacon = t0 + 9s});
  h.observe_failovers(failovers);
  EXPECT_EQ(count(h, FailoverPhase::kDetect), 2u);
  EXPECT_EQ(count(h, FailoverPhase::kCas), 2u);
  EXPECT_EQ(count(h, FailoverPhase::kReconcile), 1u);
  EXPECT_EQ(count(h, FailoverPhase::kTotal), 1u);
  // Only 16 are kept: the oldest dropping off the front changes nothing.
  failovers.erase(failovers.begin());
  h.observe_failovers(failovers);
  EXPECT_EQ(count(h, FailoverPhase::kDetect), 2u);
}

TEST(StoreFailoverMetrics, APromotionWithoutABeaconHeardIsNotAFailover) {
  // A new cluster's first primary, or a restarted primary: it replaced no
  // primary it was hearing, so it counts in no phase (failovers_total
  // still counts it as a promotion).
  const core::TimePoint t0 = core::TimePoint(std::chrono::hours(5));
  StoreHistograms h;
  h.observe_failovers({{.epoch = 1, .suspected = t0, .cas_granted = t0 + 3ms, .reconciled = t0 + 5ms,
                        .first_write = t0 + 9ms}});
  for (std::size_t i = 0; i < store::kFailoverPhases; ++i)
    EXPECT_EQ(h.phase(static_cast<FailoverPhase>(i)).count(), 0u);
}

TEST(StoreFailoverMetrics, KilledPrimaryIsOneFailoverInTheHistogramsWithTheGraceAsDetection) {
  Sim sim({"a", "b"});
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2 && sim.primary().has_value(); });
  ASSERT_TRUE(sim.primary());
  const std::string p = *sim.primary();
  const std::string b = p == "a" ? "b" : "a";
  sim.advance(100ms);
  for (int i = 0; i < 20; ++i) {
    sim.write(p, "k" + std::to_string(i), "v");
    sim.advance(5ms);
  }
  // As the node does: hand the failovers over after every step, and write
  // every 5 ms as a client under light load would.
  StoreHistograms h;
  sim.crash(p);
  int steps = 0;
  sim.until([&] {
    h.observe_failovers(sim.replica(b).failovers());
    if (++steps % 5 == 0 && sim.primary() == b) sim.write(b, "after" + std::to_string(steps), "x");
    return count(h, FailoverPhase::kTotal) > 0;
  });
  for (int i = 0; i < 10; ++i) h.observe_failovers(sim.replica(b).failovers());  // scrapes change nothing

  for (std::size_t i = 0; i < store::kFailoverPhases; ++i)
    EXPECT_EQ(h.phase(static_cast<FailoverPhase>(i)).count(), 1u) << store::phase_name(static_cast<FailoverPhase>(i));
  // Detection is the grace (250 ms) from the last beacon heard, give or take a
  // tick; the whole failover as a writer sees it, grace + CAS + fsyncs + the
  // wait for the next write.
  EXPECT_GE(h.phase(FailoverPhase::kDetect).sum(), 0.25);
  EXPECT_LE(h.phase(FailoverPhase::kDetect).sum(), 0.27);
  EXPECT_LE(h.phase(FailoverPhase::kTotal).sum(), 0.33);
  EXPECT_TRUE(sim.missing_acked().empty());

  core::MetricsWriter out;
  h.write(out);
  const std::string text = out.text();
  EXPECT_NE(text.find("# TYPE failover_store_failover_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("failover_store_failover_seconds_count{phase=\"total\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("failover_store_failover_seconds_bucket{phase=\"detect\",le=\"0.2\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("failover_store_failover_seconds_bucket{phase=\"detect\",le=\"0.3\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("failover_store_write_seconds_count 0\n"), std::string::npos);
}

TEST(StoreFailoverMetrics, WriteLatencyGoesInItsBucket) {
  const core::TimePoint t0 = core::TimePoint(std::chrono::hours(5));
  StoreHistograms h;
  h.observe_write(t0, t0 + 3ms);
  h.observe_write(t0, t0 + 3s);
  core::MetricsWriter out;
  h.write(out);
  const std::string text = out.text();
  EXPECT_NE(text.find("failover_store_write_seconds_bucket{le=\"0.002\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("failover_store_write_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("failover_store_write_seconds_bucket{le=\"2.5\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("failover_store_write_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("failover_store_write_seconds_count 2\n"), std::string::npos);
}

}  // namespace
}  // namespace failover::test
