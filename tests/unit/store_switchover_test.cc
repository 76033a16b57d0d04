// A planned switchover (Replica::switchover) on the manual clock and the
// in-memory network: the role moves to the target under a stream of writes
// with none lost and a short pause, in one epoch, with only one node
// serving at any instant (the sim checks that every step); and every way
// it must refuse or give up.
#include <gtest/gtest.h>

#include "store_sim.h"

namespace failover::test {
namespace {

using store::Role;
using namespace std::chrono_literals;

void settle(Sim& sim) {
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2 && sim.primary().has_value(); });
  ASSERT_TRUE(sim.primary().has_value());
  ASSERT_EQ(sim.arbiter.record.in_sync.size(), 2u);
  sim.advance(60ms);  // the backup hears that it is in in_sync
}

std::string other(const std::string& n) { return n == "a" ? "b" : "a"; }

core::Result<void> switchover(Sim& sim, const std::string& from, const std::string& to) {
  SimNode& n = sim.node(from);
  auto begun = n.replica->switchover(sim.local(n), to);
  if (!begun) return begun.error();
  sim.carry_out(from, std::move(*begun));
  return core::ok();
}

TEST(StoreSwitchover, MovesTheRoleUnderWritesWithNothingLostInOneEpochAndAShortPause) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string from = *sim.primary(), to = other(from);
  const std::uint64_t epoch = sim.arbiter.record.epoch, version = sim.arbiter.record.version;
  int n = 0;
  // Writes every millisecond at whichever node serves, before and after.
  auto write_tick = [&] {
    if (auto p = sim.primary()) sim.write(*p, "k" + std::to_string(n % 10), "v" + std::to_string(n));
    ++n;
  };
  for (int i = 0; i < 50; ++i) {
    write_tick();
    sim.step();
  }
  const std::size_t acked_before = sim.acked.size();
  ASSERT_GT(acked_before, 40u);
  const int failed_before = sim.failed_writes;
  const core::TimePoint t0 = sim.now;
  ASSERT_TRUE(switchover(sim, from, to).ok());
  EXPECT_EQ(sim.replica(from).switching_to(), to);
  std::size_t fewest_in_sync = 2;  // the old primary stays in in_sync throughout
  const auto took = sim.until([&] {
    write_tick();
    fewest_in_sync = std::min(fewest_in_sync, sim.arbiter.record.in_sync.size());
    return sim.primary() == to;
  });
  // The pause: catching up, the compare-and-set, the Handover, the target's
  // own record read and its epoch's first entry, here each a millisecond.
  EXPECT_LT(took, 50ms);
  for (int i = 0; i < 300; ++i) {  // past a lease: no member dropped
    write_tick();
    sim.step();
    fewest_in_sync = std::min(fewest_in_sync, sim.arbiter.record.in_sync.size());
  }
  EXPECT_EQ(fewest_in_sync, 2u);
  EXPECT_EQ(sim.primary(), to);
  EXPECT_EQ(sim.replica(from).role(), Role::kBackup);
  EXPECT_EQ(sim.replica(from).switching_to(), "");
  EXPECT_EQ(sim.arbiter.record.epoch, epoch + 1);  // no failover on top of it
  EXPECT_EQ(sim.arbiter.record.version, version + 1);  // one compare-and-set: no shrink and regrow
  EXPECT_EQ(sim.arbiter.record.primary, to);
  EXPECT_EQ(sim.arbiter.record.in_sync.size(), 2u);
  EXPECT_TRUE(sim.missing_acked().empty());
  EXPECT_GT(sim.acked.size(), acked_before + 40);
  // Only the writes sent while it switched were refused (the client retries them).
  EXPECT_LE(sim.failed_writes - failed_before, std::chrono::duration_cast<std::chrono::milliseconds>(sim.now - t0).count());
  // The old primary follows the new one and is in in_sync again.
  sim.until([&] { return sim.replica(from).in_sync(); }, 500ms);
  EXPECT_TRUE(sim.replica(from).in_sync());
}

TEST(StoreSwitchover, TheOldPrimaryServesNothingOnceItsCompareAndSetIsOut) {
  Sim sim({"a", "b"});
  sim.arbiter_rtt = 30ms;  // the answer takes a while; the record may already name b
  settle(sim);
  const std::string p = *sim.primary(), b = other(p);
  ASSERT_TRUE(switchover(sim, p, b).ok());
  sim.advance(2ms);
  EXPECT_EQ(sim.arbiter.record.primary, b);  // landed; p has not heard yet
  EXPECT_TRUE(sim.replica(p).read_refusal(sim.local(sim.node(p))).has_value());
  sim.until([&] { return sim.primary() == b; }, 500ms);
  EXPECT_EQ(sim.primary(), b);
}

TEST(StoreSwitchover, AndBackAgain) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string first = *sim.primary();
  ASSERT_TRUE(switchover(sim, first, other(first)).ok());
  sim.until([&] { return sim.primary() == other(first) && sim.replica(first).in_sync(); }, 1000ms);
  ASSERT_TRUE(sim.replica(first).in_sync());
  sim.advance(60ms);
  ASSERT_TRUE(switchover(sim, other(first), first).ok());
  sim.until([&] { return sim.primary() == first; }, 1000ms);
  EXPECT_EQ(sim.primary(), first);
  EXPECT_TRUE(sim.missing_acked().empty());
}

TEST(StoreSwitchover, RefusesWhatItCannotDoSafely) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary(), b = other(p);
  EXPECT_EQ(switchover(sim, b, p).error().code, core::ErrorCode::kInvalid);  // a backup has no role to give
  EXPECT_EQ(switchover(sim, p, p).error().code, core::ErrorCode::kInvalid);
  EXPECT_EQ(switchover(sim, p, "nobody").error().code, core::ErrorCode::kInvalid);
  // One at a time: hold the target's disk back so the first cannot finish yet.
  sim.fsync_time = 20ms;
  ASSERT_TRUE(sim.write(p, "k", "v"));
  ASSERT_TRUE(switchover(sim, p, b).ok());
  EXPECT_EQ(switchover(sim, p, b).error().code, core::ErrorCode::kConflict);
  EXPECT_FALSE(sim.write(p, "k2", "v2"));  // new writes wait for the switch
}

TEST(StoreSwitchover, RefusesATargetOutOfInSync) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary(), b = other(p);
  sim.net.cut(p, b);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 1; }, 2000ms);
  ASSERT_EQ(sim.arbiter.record.in_sync.size(), 1u);
  sim.advance(10ms);  // the compare-and-set's answer reaches the primary
  ASSERT_EQ(sim.primary(), p);
  auto refused = switchover(sim, p, b);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not in in_sync"), std::string::npos);
}

TEST(StoreSwitchover, ATargetThatStopsAnsweringIsGivenUpAndWritesResume) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary(), b = other(p);
  sim.fsync_time = 20ms;  // so that the target is still behind when the link goes
  ASSERT_TRUE(sim.write(p, "k", "v"));
  ASSERT_TRUE(switchover(sim, p, b).ok());
  sim.net.cut(p, b);
  // The lease runs out, the target leaves in_sync, the switchover is off.
  sim.until([&] { return sim.replica(p).switching_to().empty(); }, 2000ms);
  EXPECT_EQ(sim.replica(p).switching_to(), "");
  EXPECT_EQ(sim.primary(), p);
  EXPECT_EQ(sim.arbiter.record.primary, p);
  EXPECT_TRUE(sim.write(p, "k3", "v3"));
  sim.until([&] { return sim.acked.size() >= 2; }, 500ms);
  EXPECT_TRUE(sim.missing_acked().empty());
}

TEST(StoreSwitchover, ALostHandoverStillEndsWithTheTargetPrimaryAfterItsGrace) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary(), b = other(p);
  const std::uint64_t epoch = sim.arbiter.record.epoch;
  // The target holds everything: the compare-and-set is out at once. The
  // link goes before its answer, so the Handover after it is lost.
  ASSERT_TRUE(switchover(sim, p, b).ok());
  sim.net.cut(p, b);
  sim.until([&] { return sim.replica(p).role() != Role::kPrimary; }, 500ms);
  ASSERT_EQ(sim.replica(p).role(), Role::kBackup);
  EXPECT_FALSE(sim.primary().has_value());
  // The target waits out its grace, finds itself named, and takes an epoch.
  const auto took = sim.until([&] { return sim.primary() == b; }, 2000ms);
  EXPECT_EQ(sim.primary(), b);
  EXPECT_GE(took, 200ms);
  EXPECT_EQ(sim.arbiter.record.epoch, epoch + 2);
  sim.net.heal();
  sim.until([&] { return sim.replica(p).in_sync(); }, 2000ms);
  EXPECT_TRUE(sim.replica(p).in_sync());
  EXPECT_TRUE(sim.missing_acked().empty());
}

}  // namespace
}  // namespace failover::test
