// Several backups (a primary and two backups, `peers:` with two entries) on
// the manual clock and the in-memory network: in_sync grows to all three, a
// write is acknowledged only once every in-sync member has it on disk, and
// across repeated kills of the primary an in-sync backup takes over, the
// other follows it without a checkpoint, and no acknowledged write is lost.
#include <gtest/gtest.h>

#include "store_sim.h"

namespace failover::test {
namespace {

using store::Role;
using namespace std::chrono_literals;

TEST(StoreThreeNodes, InSyncGrowsToAllAndAWriteWaitsForEveryMember) {
  Sim sim({"a", "b", "c"});
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 3 && sim.primary(); }, 2000ms);
  ASSERT_EQ(sim.arbiter.record.in_sync.size(), 3u);
  const std::string p = *sim.primary();
  std::string slow;
  for (const auto& [name, n] : sim.nodes)
    if (name != p) slow = name;
  sim.advance(60ms);
  // One member's disk is slow: nothing is acknowledged before it has the write.
  sim.fsync_time = 1ms;
  const std::size_t before = sim.acked.size();
  sim.net.delay(p, slow, 30ms);
  ASSERT_TRUE(sim.write(p, "k", "v"));
  sim.advance(20ms);
  EXPECT_EQ(sim.acked.size(), before);
  sim.advance(60ms);
  EXPECT_EQ(sim.acked.size(), before + 1);
  EXPECT_GE(sim.node(slow).durable, sim.acked.back().seq);
}

TEST(StoreThreeNodes, RepeatedKillsLoseNothingAndTheOtherBackupFollows) {
  Sim sim({"a", "b", "c"});
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 3 && sim.primary(); }, 2000ms);
  ASSERT_EQ(sim.arbiter.record.in_sync.size(), 3u);
  int n = 0;
  for (int round = 0; round < 10; ++round) {
    const std::string p = *sim.primary();
    for (int i = 0; i < 30; ++i) {
      sim.write(p, "k" + std::to_string(n % 50), std::to_string(n));
      ++n;
      sim.advance(1ms);
    }
    const std::uint64_t epoch = sim.arbiter.record.epoch;
    sim.crash(p);
    sim.until([&] { return sim.primary() && *sim.primary() != p; }, 1000ms);
    ASSERT_TRUE(sim.primary() && *sim.primary() != p) << "round " << round;
    EXPECT_EQ(sim.arbiter.record.epoch, epoch + 1) << "one election, round " << round;
    // The backup that lost the race follows the new primary.
    sim.until([&] { return sim.arbiter.record.in_sync.size() >= 2; }, 1000ms);
    for (const auto& [name, node] : sim.nodes)
      if (node.up && name != *sim.primary()) {
        EXPECT_EQ(node.replica->role(), Role::kBackup) << name << " round " << round;
      }
    sim.restart(p);
    sim.until([&] { return sim.arbiter.record.in_sync.size() == 3; }, 2000ms);
    ASSERT_EQ(sim.arbiter.record.in_sync.size(), 3u) << "round " << round;
  }
  EXPECT_TRUE(sim.missing_acked().empty());
  EXPECT_GT(sim.acked.size(), 250u);
}

// The primary ranks its in-sync backups by how far along each is: when it
// dies, the one with the longest log asks first and is promoted, and the
// other follows without losing what it holds; if that one is dead too, the
// other takes over an interval later.
TEST(StoreThreeNodes, TheBackupWithTheLongestLogIsPromoted) {
  for (int round = 0; round < 6; ++round) {
    // A small window of entries in flight: a backup whose acks come late
    // gets beacons on time but entries late, so both backups' graces end
    // together and only the rank tells them apart.
    Sim sim({"a", "b", "c"}, {}, [](store::ReplicaConfig& c) { c.max_in_flight = 4; });
    sim.until([&] { return sim.arbiter.record.in_sync.size() == 3 && sim.primary(); }, 2000ms);
    ASSERT_EQ(sim.arbiter.record.in_sync.size(), 3u);
    const std::string p = *sim.primary();
    std::vector<std::string> backups;
    for (const auto& [name, n] : sim.nodes)
      if (name != p) backups.push_back(name);
    // Alternate which backup lags, so the name order cannot decide it.
    const std::string ahead = backups[round % 2], behind = backups[1 - round % 2];
    sim.net.delay(behind, p, 40ms);  // its acks
    sim.fsync_time = 1ms;
    // Crashed before `behind`'s first late ack is back: it holds the first
    // few entries, `ahead` all of them.
    for (int i = 0; i < 30; ++i) {
      sim.write(p, "k" + std::to_string(i), std::to_string(i));
      sim.advance(1ms);
    }
    sim.advance(2ms);
    ASSERT_GT(sim.node(ahead).replica->last_seq(), sim.node(behind).replica->last_seq()) << "round " << round;
    sim.crash(p);
    sim.until([&] { return sim.primary() && *sim.primary() != p; }, 2000ms);
    ASSERT_TRUE(sim.primary().has_value());
    EXPECT_EQ(*sim.primary(), ahead) << "round " << round;
    sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; }, 2000ms);
    EXPECT_EQ(sim.node(behind).replica->role(), Role::kBackup);
    // It follows by entries, not a checkpoint, up to the new primary's end.
    sim.until([&] { return sim.node(behind).replica->last_seq() == sim.node(ahead).replica->last_seq(); }, 2000ms);
    EXPECT_EQ(sim.node(behind).replica->last_seq(), sim.node(ahead).replica->last_seq()) << "round " << round;
    EXPECT_TRUE(sim.missing_acked().empty());
  }
}

TEST(StoreThreeNodes, WhenTheFirstInLineIsDeadTooTheNextTakesOverAnIntervalLater) {
  Sim sim({"a", "b", "c"});
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 3 && sim.primary(); }, 2000ms);
  const std::string p = *sim.primary();
  sim.advance(200ms);  // beacons carry the ranks
  std::string first, second;
  for (const auto& [name, n] : sim.nodes)
    if (name != p) (first.empty() ? first : second) = name;  // equal logs: the name first in order ranks first
  sim.crash(first);
  sim.crash(p);
  sim.until([&] { return sim.primary().has_value(); }, 3000ms);
  ASSERT_TRUE(sim.primary().has_value());
  EXPECT_EQ(*sim.primary(), second);
}

// A backup short of disk (hold_off_promotion) never asks for the role, however
// long it goes without a beacon; with room again, it takes over as usual.
TEST(StoreHoldOffPromotion, ABackupShortOfDiskNeverAsksForTheRole) {
  Sim sim({"a", "b"});
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2 && sim.primary(); }, 2000ms);
  const std::string p = *sim.primary(), b = p == "a" ? "b" : "a";
  sim.replica(b).hold_off_promotion(true);
  sim.crash(p);
  sim.advance(2000ms);
  EXPECT_FALSE(sim.primary().has_value());
  EXPECT_EQ(sim.replica(b).role(), Role::kBackup);
  sim.replica(b).hold_off_promotion(false);
  sim.until([&] { return sim.primary().has_value(); }, 1000ms);
  EXPECT_EQ(sim.primary(), b);
}

}  // namespace
}  // namespace failover::test
