// The replica state machine in a simulated cluster (store_sim.h): every role
// transition, the lease against the grace under drift, fencing by epoch,
// KIP-101 truncation, in_sync shrinking and growing, the arbiter's failures.
// Each test states what a user would see: who serves, which writes were
// acknowledged, and that none of those is ever lost.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "store_sim.h"

namespace failover::test {
namespace {

using store::Role;

// Waits until two nodes have elected a primary and grown in_sync to both.
void settle(Sim& sim) {
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2 && sim.primary().has_value(); });
  ASSERT_TRUE(sim.primary().has_value());
  ASSERT_EQ(sim.arbiter.record.in_sync.size(), 2u);
}

std::string other(const std::string& n) { return n == "a" ? "b" : "a"; }

TEST(StoreReplica, FirstStartElectsOnePrimaryAndGrowsInSync) {
  Sim sim({"a", "b"});
  const auto took = sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; });
  sim.advance(60ms);  // the next beacon tells the backup
  ASSERT_TRUE(sim.primary());
  EXPECT_LT(took, 500ms);
  EXPECT_EQ(sim.arbiter.record.epoch, 1u);
  const std::string p = *sim.primary();
  EXPECT_EQ(sim.replica(other(p)).role(), Role::kBackup);
  EXPECT_TRUE(sim.replica(other(p)).in_sync());
  EXPECT_EQ(sim.replica(other(p)).known_primary(sim.local(sim.node(other(p)))), p);
}

TEST(StoreReplica, AWriteIsAcknowledgedOnlyOnceDurableOnBoth) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.fsync_time = 5ms;
  ASSERT_TRUE(sim.write(p, "k", "v"));
  sim.advance(3ms);
  EXPECT_TRUE(sim.acked.empty());
  sim.advance(10ms);
  ASSERT_EQ(sim.acked.size(), 1u);
  const std::uint64_t seq = sim.acked[0].seq;
  EXPECT_GE(sim.node(other(p)).durable, seq);
  sim.advance(60ms);  // the next beacon carries the commit point
  EXPECT_EQ(sim.node(other(p)).kv["k"], "v");
}

TEST(StoreReplica, GroupCommitOneAppendAndOneSendForManyWrites) {
  store::ReplicaConfig c;
  c.node = "a";
  c.peers = {"b"};
  const core::TimePoint t0{std::chrono::hours(1)};
  store::Replica r(c, {"disk-a", "", 0, 0, 0, {}}, t0);
  (void)r.start(t0);
  (void)r.record_read(t0, arbiter::Record{"c", 1, 0, "", {}});
  (void)r.cas_done(t0, arbiter::Record{"c", 2, 1, "a", {{"a", "disk-a"}}});
  (void)r.local_durable(t0, 1);  // the Noop that opens epoch 1
  ASSERT_FALSE(r.read_refusal(t0));
  std::vector<store::Proposal> writes;
  for (int i = 0; i < 100; ++i) writes.push_back({store::Op::kPut, "k" + std::to_string(i), "v", ""});
  auto out = r.propose(t0, std::move(writes));
  ASSERT_TRUE(std::holds_alternative<store::Replica::Proposed>(out));
  auto& p = std::get<store::Replica::Proposed>(out);
  EXPECT_EQ(p.first_seq, 2u);
  int appends = 0;
  for (const auto& a : p.actions) {
    if (const auto* l = std::get_if<store::act::AppendLocal>(&a)) EXPECT_EQ(l->entries.size(), 100u);
    appends += std::holds_alternative<store::act::AppendLocal>(a);
  }
  EXPECT_EQ(appends, 1);
  // One durability report commits them all at once.
  auto done = r.local_durable(t0, 101);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(std::get<store::act::Commit>(done[0]).upto, 101u);
}

TEST(StoreReplica, KilledPrimaryIsReplacedAfterTheGraceAndLosesNoAcknowledgedWrite) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  for (int i = 0; i < 50; ++i) {
    sim.write(p, "k" + std::to_string(i), "v");
    sim.advance(1ms);
  }
  sim.advance(5ms);
  ASSERT_EQ(sim.acked.size(), 50u);
  sim.crash(p);
  const auto took = sim.until([&] { return sim.primary() == other(p); });
  ASSERT_EQ(sim.primary(), other(p));
  // Grace (250) at most one beat after the last beacon, plus the CAS and
  // the Noop's fsync.
  EXPECT_GE(took, 200ms);
  EXPECT_LE(took, 320ms);
  EXPECT_TRUE(sim.missing_acked().empty());
  const auto& f = sim.replica(other(p)).failovers().back();
  EXPECT_GT(f.cas_granted, f.suspected);
  EXPECT_GE(f.reconciled, f.cas_granted);
  ASSERT_TRUE(sim.write(other(p), "after", "x"));
  sim.advance(5ms);
  EXPECT_EQ(sim.acked.back().key, "after");
  EXPECT_NE(sim.replica(other(p)).failovers().back().first_write, core::TimePoint{});
}

TEST(StoreReplica, DeadBackupPausesWritesAtMostALeaseThenIsDroppedFromInSync) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.crash(other(p));
  const core::TimePoint crashed = sim.now;
  ASSERT_TRUE(sim.write(p, "k", "v"));
  sim.until([&] { return !sim.acked.empty(); });
  ASSERT_EQ(sim.acked.size(), 1u);
  EXPECT_LE(sim.acked[0].at - crashed, sim.base.lease + 10ms);
  EXPECT_EQ(sim.arbiter.record.in_sync.size(), 1u);
  EXPECT_EQ(sim.arbiter.record.primary, p);
  EXPECT_EQ(sim.arbiter.record.epoch, 1u);  // no failover: the same primary goes on
}

TEST(StoreReplica, StrictRefusesWritesAtOnceInsteadOfHanging) {
  Sim sim({"a", "b"}, {}, [](store::ReplicaConfig& c) { c.strict = true; });
  settle(sim);
  sim.advance(5ms);  // the primary has the answer to its last compare-and-set
  const std::string p = *sim.primary();
  ASSERT_TRUE(sim.write(p, "k", "v"));
  sim.advance(5ms);
  ASSERT_EQ(sim.acked.size(), 1u);
  sim.crash(other(p));
  sim.advance(sim.base.lease + 5ms);
  const int failed = sim.failed_writes;
  EXPECT_FALSE(sim.write(p, "k2", "v2"));  // refused at once, with a reason
  EXPECT_EQ(sim.failed_writes, failed + 1);
  sim.advance(500ms);
  EXPECT_FALSE(sim.write(p, "k3", "v3"));  // alone in in_sync: still refused
}

TEST(StoreReplica, ReturningBackupRejoinsInSyncOnlyOnceCaughtUp) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  sim.crash(b);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 1; });
  for (int i = 0; i < 3000; ++i) sim.write(p, "k" + std::to_string(i), "v");
  sim.advance(5ms);
  sim.restart(b);
  // Never in in_sync before it holds every acknowledged write.
  const auto took = sim.until([&] {
    if (sim.arbiter.record.has_member(b, sim.node(b).storage_id)) {
      for (const auto& w : sim.acked) EXPECT_GE(sim.node(b).durable, w.seq);
      return true;
    }
    return false;
  });
  EXPECT_TRUE(sim.arbiter.record.has_member(b, sim.node(b).storage_id));
  EXPECT_LT(took, 1000ms);
}

TEST(StoreReplica, RestartedBackupIsBackInSyncWithoutWaitingForABeacon) {
  // Failback of a small delta: the primary beacons as soon as its link to the
  // returning node connects, so however the restart falls between two
  // beacons, the node is back well within one heartbeat interval.
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  for (int offset_ms = 0; offset_ms < 50; offset_ms += 10) {
    sim.crash(b);
    sim.until([&] { return sim.arbiter.record.in_sync.size() == 1; });
    for (int i = 0; i < 20; ++i) sim.write(p, "k" + std::to_string(i), "v" + std::to_string(offset_ms));
    sim.advance(std::chrono::milliseconds(offset_ms));
    sim.restart(b);
    const auto took = sim.until([&] { return sim.arbiter.record.has_member(b, sim.node(b).storage_id); });
    EXPECT_LT(took, 25ms) << "restarted " << offset_ms << " ms into the wait";
    for (const auto& w : sim.acked) EXPECT_GE(sim.node(b).durable, w.seq);
  }
}

TEST(StoreReplica, DeposedPrimaryQuarantinesItsUnacknowledgedTail) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string a = *sim.primary();
  const std::string b = other(a);
  sim.write(a, "acked", "1");
  sim.advance(5ms);
  ASSERT_EQ(sim.acked.size(), 1u);
  // a is cut from everybody: its next writes reach its own disk only.
  sim.net.isolate(a);
  sim.node(a).arbiter_cut = true;
  for (int i = 0; i < 5; ++i) sim.write(a, "lost" + std::to_string(i), "x");
  sim.until([&] { return sim.primary() == b; });
  ASSERT_EQ(sim.primary(), b);
  sim.write(b, "new", "2");
  sim.advance(5ms);
  sim.net.rejoin(a);
  sim.node(a).arbiter_cut = false;
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; });
  EXPECT_EQ(sim.replica(a).role(), Role::kBackup);
  ASSERT_EQ(sim.node(a).quarantine.size(), 5u);
  for (const auto& e : sim.node(a).quarantine) EXPECT_EQ(e.key.substr(0, 4), "lost");
  for (const auto& w : sim.acked) EXPECT_NE(w.key.substr(0, 4), "lost");
  // a's log is now b's.
  for (std::uint64_t s = 1; s <= sim.node(b).last_seq(); ++s)
    EXPECT_EQ(*sim.node(a).entry(s), *sim.node(b).entry(s)) << "seq " << s;
  EXPECT_TRUE(sim.missing_acked().empty());
}

TEST(StoreReplica, TruncationAcrossSkippedEpochsKeepsOnlyTheCommonPrefix) {
  // b holds epochs 1 and 3; a holds 1, 2 and 4 (epoch 3's primary never
  // reached a, epoch 2's never reached b). The record names a in epoch 4.
  Sim sim({"a", "b"});
  for (auto& [n, node] : sim.nodes) sim.crash(n);
  auto put = [](std::uint64_t epoch, std::uint64_t seq, std::string key) {
    return store::Entry{epoch, seq, store::Op::kPut, std::move(key), "v", ""};
  };
  sim.node("a").log = {put(1, 1, "x"), put(1, 2, "x"), put(2, 3, "a2"), put(2, 4, "a2"), put(4, 5, "a4")};
  sim.node("b").log = {put(1, 1, "x"), put(1, 2, "x"), put(3, 3, "b3"), put(3, 4, "b3"), put(3, 5, "b3"),
                       put(3, 6, "b3")};
  for (auto& [n, node] : sim.nodes) {
    node.durable = node.last_seq();
    node.applied = 2;
    node.cluster_id = "cluster-1";
    node.highest_epoch = 4;
  }
  sim.arbiter.record = {"cluster-1", 9, 4, "a", {{"a", "disk-a"}}};
  sim.restart("a");
  sim.restart("b");
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; });
  EXPECT_EQ(sim.arbiter.record.primary, "a");
  ASSERT_EQ(sim.node("b").quarantine.size(), 4u);
  for (const auto& e : sim.node("b").quarantine) EXPECT_EQ(e.key, "b3");
  ASSERT_EQ(sim.node("b").last_seq(), sim.node("a").last_seq());
  for (std::uint64_t s = 1; s <= sim.node("a").last_seq(); ++s)
    EXPECT_EQ(*sim.node("a").entry(s), *sim.node("b").entry(s)) << "seq " << s;
}

// The old primary stops serving before the backup can be promoted, wherever
// in the beacon cycle the link breaks, with clocks drifting 2% apart in the
// worst direction (the primary's slow, the backup's fast).
TEST(StoreReplica, LeaseEndsBeforeTheGraceForEveryBeaconOffset) {
  for (int offset = 0; offset < 50; offset += 3) {
    Sim sim({"a", "b"}, {{"a", 0.98}, {"b", 1.02}});
    settle(sim);
    const std::string p = *sim.primary();
    sim.advance(core::Duration(offset));
    for (int i = 0; i < 5; ++i) sim.write(p, "k" + std::to_string(i), "v");
    sim.net.cut("a", "b");
    sim.node(p).arbiter_cut = true;  // it cannot shrink in_sync: the backup takes over
    const auto took = sim.until([&] { return sim.primary() == other(p); }, 2000ms);
    EXPECT_EQ(sim.primary(), other(p)) << "offset " << offset;
    EXPECT_LE(took, 400ms) << "offset " << offset;
    EXPECT_TRUE(sim.missing_acked().empty()) << "offset " << offset;
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(StoreReplica, StoppedPrimaryDoesNotServeWhenItWakes) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.write(p, "k", "1");
  sim.advance(5ms);
  sim.node(p).paused = true;  // SIGSTOP
  sim.until([&] { return sim.primary() == other(p); });
  ASSERT_EQ(sim.primary(), other(p));
  sim.write(other(p), "k", "2");
  sim.advance(5ms);
  sim.node(p).paused = false;  // SIGCONT: its writes in flight, its beacons, its lease, all stale
  sim.advance(1ms);
  EXPECT_TRUE(sim.replica(p).read_refusal(sim.local(sim.node(p))).has_value());
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; });
  EXPECT_EQ(sim.replica(p).role(), Role::kBackup);
  EXPECT_TRUE(sim.missing_acked().empty());
}

// Both nodes reach the arbiter but not each other: the primary's shrink and
// the backup's promotion race for the same version; exactly one wins.
TEST(StoreReplica, ShrinkRacingPromotionExactlyOneCasWins) {
  for (int delay = 0; delay < 120; delay += 10) {
    Sim sim({"a", "b"});
    settle(sim);
    const std::string p = *sim.primary();
    sim.net.cut("a", "b");
    sim.node(p).arbiter_cut = true;
    // Let the primary reach the arbiter again around the backup's grace.
    sim.advance(sim.base.heartbeat_timeout - 60ms + core::Duration(delay));
    sim.node(p).arbiter_cut = false;
    sim.advance(600ms);
    const auto& r = sim.arbiter.record;
    ASSERT_EQ(r.in_sync.size(), 1u) << "delay " << delay;
    EXPECT_EQ(r.in_sync[0].node, r.primary);
    ASSERT_TRUE(sim.primary()) << "delay " << delay;
    EXPECT_EQ(*sim.primary(), r.primary);
    const std::string loser = other(r.primary);
    EXPECT_NE(sim.replica(loser).role(), Role::kPrimary);
    EXPECT_TRUE(sim.missing_acked().empty());
  }
}

TEST(StoreReplica, ArbiterDownChangesNothingWhileBothLive) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.arbiter.down = true;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(sim.write(p, "k" + std::to_string(i), "v"));
    sim.advance(20ms);
  }
  EXPECT_EQ(sim.primary(), p);
  EXPECT_EQ(sim.acked.size(), 100u);
}

TEST(StoreReplica, ArbiterAndPrimaryDownNobodyServesUntilTheArbiterReturns) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.arbiter.down = true;
  sim.crash(p);
  sim.advance(2000ms);
  EXPECT_FALSE(sim.primary());
  EXPECT_EQ(sim.replica(other(p)).role(), Role::kCandidate);
  bool said = false;
  for (const auto& n : sim.node(other(p)).notes) said |= n.find("no failover is possible") != std::string::npos;
  EXPECT_TRUE(said);
  sim.arbiter.down = false;
  const auto took = sim.until([&] { return sim.primary() == other(p); });
  EXPECT_LE(took, 100ms);
}

TEST(StoreReplica, WipedNodeIsNeverPromotedWithItsNewDisk) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  sim.write(p, "acked", "1");
  sim.advance(5ms);
  ASSERT_EQ(sim.acked.size(), 1u);
  // b's disk is wiped while it is in in_sync; the primary dies before b is
  // back (a returning node catches up within milliseconds, after which it
  // would rightly be a member again with its new disk).
  sim.crash(b);
  sim.wipe(b);
  sim.crash(p);
  sim.restart(b);
  sim.advance(2000ms);
  EXPECT_FALSE(sim.primary());
  EXPECT_FALSE(sim.replica(b).why_not_promotable().empty());
  EXPECT_TRUE(sim.missing_acked().empty() || !sim.primary());
}

TEST(StoreReplica, LostCasAnswerIsSettledByReadingTheRecord) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.arbiter.lose_next_cas_answers = 1;
  sim.crash(p);
  sim.until([&] { return sim.primary() == other(p); });
  EXPECT_EQ(sim.primary(), other(p));
  EXPECT_EQ(sim.arbiter.record.epoch, 2u);
}

TEST(StoreReplica, RefusesAForeignOrRolledBackRecord) {
  Sim sim({"a", "b"});
  settle(sim);
  for (auto& [n, node] : sim.nodes) sim.crash(n);
  sim.arbiter.record = {"another-cluster", 1, 0, "", {}};
  sim.restart("a");
  sim.advance(1000ms);
  EXPECT_FALSE(sim.primary());
  EXPECT_TRUE(sim.replica("a").witness_refused());
  EXPECT_EQ(sim.arbiter.record.epoch, 0u);

  sim.crash("a");
  sim.arbiter.record = {"cluster-1", 1, 0, "", {}};  // same cluster, rolled back to before the first primary
  sim.restart("a");
  sim.advance(1000ms);
  EXPECT_FALSE(sim.primary());
  EXPECT_TRUE(sim.replica("a").witness_refused());
}

TEST(StoreReplica, BothRestartedTheRecordedPrimaryTakesANewEpochAtOnce) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.write(p, "k", "v");
  sim.advance(5ms);
  const std::uint64_t epoch = sim.arbiter.record.epoch;
  for (auto& [n, node] : sim.nodes) sim.crash(n);
  sim.restart("a");
  sim.restart("b");
  const auto took = sim.until([&] { return sim.primary().has_value(); });
  EXPECT_EQ(sim.primary(), p);
  EXPECT_LT(took, 50ms);  // no grace: the record names it
  EXPECT_EQ(sim.arbiter.record.epoch, epoch + 1);
  EXPECT_TRUE(sim.missing_acked().empty());
}

TEST(StoreReplica, AppendFromAnOlderEpochIsRefusedAtTheDoor) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  sim.crash(p);
  sim.until([&] { return sim.primary() == other(p); });
  store::Append stale;
  stale.epoch = 1;
  stale.from = p;
  stale.prev_seq = sim.node(other(p)).last_seq();
  stale.entries = {{1, stale.prev_seq + 1, store::Op::kPut, "k", "stale", ""}};
  const std::uint64_t before = sim.node(other(p)).last_seq();
  auto out = sim.replica(other(p)).receive(sim.local(sim.node(other(p))), stale);
  ASSERT_EQ(out.size(), 1u);
  const auto& ack = std::get<store::AppendAck>(std::get<store::act::Send>(out[0]).message);
  EXPECT_EQ(ack.status, store::AppendAck::Status::kStaleEpoch);
  EXPECT_EQ(ack.epoch, 2u);
  EXPECT_EQ(sim.replica(other(p)).last_seq(), before);
  EXPECT_EQ(sim.replica(other(p)).stale_epoch_messages(), 1u);
}

// New entries are answered once they are durable (that answer commits
// them; one on arrival too would double the messages per group), entries
// the backup already holds at once.
TEST(StoreReplica, ABackupAcknowledgesNewEntriesOnceDurableAndHeldOnesAtOnce) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  sim.advance(60ms);
  store::Append append;
  append.epoch = sim.arbiter.record.epoch;
  append.from = p;
  append.prev_seq = sim.replica(b).last_seq();
  const std::uint64_t seq = append.prev_seq + 1;
  append.entries = {{append.epoch, seq, store::Op::kPut, "k", "v", ""}};
  const auto acks = [](const store::Actions& out) {
    std::vector<store::AppendAck> found;
    for (const auto& a : out)
      if (const auto* send = std::get_if<store::act::Send>(&a))
        if (const auto* ack = std::get_if<store::AppendAck>(&send->message)) found.push_back(*ack);
    return found;
  };
  const core::TimePoint now = sim.local(sim.node(b));
  auto out = sim.replica(b).receive(now, append);
  EXPECT_TRUE(acks(out).empty());
  EXPECT_TRUE(std::any_of(out.begin(), out.end(), [](const auto& a) {
    return std::holds_alternative<store::act::AppendLocal>(a);
  }));

  auto durable = acks(sim.replica(b).local_durable(now, seq));
  ASSERT_EQ(durable.size(), 1u);
  EXPECT_EQ(durable[0].status, store::AppendAck::Status::kOk);
  EXPECT_EQ(durable[0].durable_seq, seq);

  auto again = acks(sim.replica(b).receive(now, append));  // held already: nothing to wait for
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].last_seq, seq);
}

TEST(StoreReplica, TwentyKillsUnderLoadLoseNoAcknowledgedWrite) {
  Sim sim({"a", "b"});
  settle(sim);
  int n = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string p = *sim.primary();
    for (int i = 0; i < 30; ++i) {
      sim.write(p, "k" + std::to_string(n % 50), std::to_string(n));
      ++n;
      sim.advance(1ms);
    }
    sim.crash(p);
    for (int i = 0; i < 400 && sim.primary() != other(p); ++i) sim.advance(1ms);
    ASSERT_EQ(sim.primary(), other(p)) << "round " << round;
    sim.restart(p);
    sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; });
    ASSERT_EQ(sim.arbiter.record.in_sync.size(), 2u) << "round " << round;
  }
  EXPECT_TRUE(sim.missing_acked().empty());
  EXPECT_GT(sim.acked.size(), 500u);
}

TEST(StoreReplica, BackupReportsTheWorstGapBetweenBeacons) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  sim.advance(500ms);
  EXPECT_GE(sim.replica(b).worst_beacon_gap(), 40ms);
  EXPECT_LE(sim.replica(b).worst_beacon_gap(), 60ms);
  // A primary that stalls for less than the grace: no failover, and the
  // backup says how close it came.
  sim.node(p).paused = true;
  sim.advance(180ms);
  sim.node(p).paused = false;
  sim.advance(100ms);
  EXPECT_EQ(sim.primary(), p);
  EXPECT_GE(sim.replica(b).worst_beacon_gap(), 180ms);
  EXPECT_LT(sim.replica(b).worst_beacon_gap(), 250ms);
}

// Entries travel on the data lane, beacons on the control lane (Lane): a
// large value that takes longer than the grace to cross the wire must not
// make the backup suspect a live primary, nor the primary drop the backup.
TEST(StoreReplica, ASlowDataLaneHoldsUpNoBeacon) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  const std::uint64_t epoch = sim.arbiter.record.epoch;
  sim.net.delay(p, b, 600ms, static_cast<int>(store::Lane::kData));
  ASSERT_TRUE(sim.write(p, "big", "value"));
  sim.advance(400ms);
  EXPECT_TRUE(sim.acked.empty());
  EXPECT_EQ(sim.replica(b).role(), Role::kBackup);
  EXPECT_LT(sim.replica(b).worst_beacon_gap(), 100ms);
  sim.until([&] { return !sim.acked.empty(); }, 1000ms);
  ASSERT_EQ(sim.acked.size(), 1u);
  EXPECT_EQ(sim.primary(), p);
  EXPECT_EQ(sim.arbiter.record.epoch, epoch);
  EXPECT_EQ(sim.arbiter.record.in_sync.size(), 2u);
}

// A beacon on the control lane claims only what the backup acknowledged, so
// it never makes the backup answer kGap for entries still on their way; a
// probe behind them on the data lane finds those that were lost (a broken
// connection) and has them sent again, even when no other write follows.
TEST(StoreReplica, ALostDataFrameIsSentAgainBehindAProbe) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  const int data = static_cast<int>(store::Lane::kData);
  sim.net.drop(p, b, 1.0, data);
  ASSERT_TRUE(sim.write(p, "k", "v"));
  sim.advance(5ms);
  sim.net.drop(p, b, 0.0, data);
  const auto took = sim.until([&] { return !sim.acked.empty(); }, 1000ms);
  ASSERT_EQ(sim.acked.size(), 1u);
  EXPECT_LE(took, 2 * 50ms + 10ms);  // the next beacon's probe, its kGap, the resend
  EXPECT_EQ(sim.primary(), p);
}

TEST(StoreMessages, RoundTripAndGarbage) {
  store::Append a;
  a.epoch = 3;
  a.from = "a";
  a.prev_seq = 9;
  a.commit_seq = 8;
  a.beacon = 12345;
  a.entries = {{3, 10, store::Op::kPut, "k", std::string("v\0x", 3), "idem"}, {3, 11, store::Op::kDelete, "k", "", ""}};
  store::AppendAck k{3, "b", "disk-b", store::AppendAck::Status::kGap, 7, 2, 6, 12345};
  store::EpochEnd e{3, "a", 2, 5};
  store::Handover hand{4, "a"};
  std::string wire;
  for (const store::Message& m : {store::Message(a), store::Message(k), store::Message(e), store::Message(hand)})
    store::encode(wire, m);
  std::vector<store::Message> got;
  std::string_view rest = wire;
  while (!rest.empty()) {
    auto d = store::decode_frame(rest);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->message);
    got.push_back(*d->message);
    rest.remove_prefix(d->size);
  }
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(std::get<store::Append>(got[0]), a);
  EXPECT_EQ(std::get<store::AppendAck>(got[1]), k);
  EXPECT_EQ(std::get<store::EpochEnd>(got[2]), e);
  EXPECT_EQ(std::get<store::Handover>(got[3]), hand);
  // Incomplete: more bytes needed, nothing consumed.
  auto part = store::decode_frame(std::string_view(wire).substr(0, 10));
  ASSERT_TRUE(part.ok());
  EXPECT_FALSE(part->message);
  auto first = store::decode_frame(wire);
  EXPECT_EQ(part->size, first->size) << "the whole frame's size, for the reader to make room";
  // A flipped byte inside an entry is caught by its checksum.
  std::string bad = wire;
  bad[60] ^= 0x5a;
  EXPECT_FALSE(store::decode_frame(bad).ok());
  EXPECT_FALSE(store::decode_frame(std::string("\xff\xff\xff\xff\x01", 5)).ok());
  EXPECT_FALSE(store::decode_frame(std::string("\x01\x00\x00\x00\x09", 5)).ok());
}

}  // namespace
}  // namespace failover::test

namespace failover::test {
namespace {

// The checker itself: with a lease longer than the grace, the old primary
// still serves when the new one starts, and the simulation must say so.
void run_with_lease_longer_than_grace() {
  Sim sim({"a", "b"}, {}, [](store::ReplicaConfig& c) { c.lease = 400ms; });
  settle(sim);
  const std::string p = *sim.primary();
  sim.net.cut("a", "b");
  sim.node(p).arbiter_cut = true;
  sim.advance(600ms);
}

TEST(StoreSim, CatchesALeaseLongerThanTheGrace) {
  EXPECT_NONFATAL_FAILURE(run_with_lease_longer_than_grace(), "nodes serve reads at once");
}

}  // namespace
}  // namespace failover::test

namespace failover::test {
namespace {

// Faults at random (fixed seeds): kills, restarts, SIGSTOPs, cut and lossy
// links, the arbiter down or cut from one node, under a steady write load.
// The invariants are checked after every simulated millisecond; at the end,
// with every fault healed, a primary serves every acknowledged write.
TEST(StoreReplica, RandomFaultsNeverLoseAnAcknowledgedWrite) {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    Sim sim({"a", "b"}, {{"a", 1.01}, {"b", 0.99}});
    settle(sim);
    std::mt19937_64 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
    int n = 0;
    for (int round = 0; round < 40; ++round) {
      const std::string victim = pick(2) ? "a" : "b";
      switch (pick(7)) {
        case 0: if (sim.node(victim).up) sim.crash(victim); break;
        case 1: if (!sim.node(victim).up) sim.restart(victim); break;
        case 2: sim.node(victim).paused = !sim.node(victim).paused; break;
        case 3: sim.net.cut("a", "b"); break;
        case 4: sim.net.drop("a", "b", 0.3); sim.net.drop("b", "a", 0.3); break;
        case 5: sim.arbiter.down = !sim.arbiter.down; break;
        case 6: sim.node(victim).arbiter_cut = !sim.node(victim).arbiter_cut; break;
      }
      const int steps = 50 + pick(400);
      for (int i = 0; i < steps; ++i) {
        for (const char* node : {"a", "b"}) {
          if (sim.node(node).up && sim.replica(node).role() == Role::kPrimary && pick(3) == 0) {
            sim.write(node, "k" + std::to_string(n % 20), std::to_string(n));
            ++n;
          }
        }
        sim.advance(1ms);
      }
      if (pick(3) == 0) {  // heal some of the time, so that progress is made
        sim.net.heal();
        for (auto& [name, node] : sim.nodes) {
          node.paused = false;
          node.arbiter_cut = false;
          if (!node.up) sim.restart(name);
          else sim.net.rejoin(name);
        }
        sim.arbiter.down = false;
      }
    }
    sim.net.heal();
    sim.arbiter.down = false;
    for (auto& [name, node] : sim.nodes) {
      node.paused = false;
      node.arbiter_cut = false;
      if (!node.up) sim.restart(name);
    }
    sim.until([&] { return sim.primary() && sim.arbiter.record.in_sync.size() == 2; }, 10000ms);
    EXPECT_TRUE(sim.primary()) << "seed " << seed;
    EXPECT_EQ(sim.arbiter.record.in_sync.size(), 2u) << "seed " << seed;
    const auto missing = sim.missing_acked();
    EXPECT_TRUE(missing.empty()) << "seed " << seed << ": " << missing.size() << " acknowledged writes lost, first seq "
                                 << (missing.empty() ? 0 : missing[0].seq);
    EXPECT_GT(sim.acked.size(), 100u) << "seed " << seed;
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace failover::test
