// Catch-up by checkpoint in the simulated cluster (store_sim.h): a backup
// that needs entries the primary has discarded is offered a checkpoint,
// installs it, follows by entries from there and rejoins in_sync; offers it
// should not take are ignored; a failed fetch is offered again. Throughout,
// no acknowledged write is lost, also when the backup that came back by
// checkpoint is promoted.
#include <gtest/gtest.h>

#include "store_sim.h"

namespace failover::test {
namespace {

using store::Role;

std::string other(const std::string& n) { return n == "a" ? "b" : "a"; }

void settle(Sim& sim) {
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2 && sim.primary().has_value(); });
  ASSERT_TRUE(sim.primary().has_value());
}

void write_some(Sim& sim, const std::string& p, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    sim.write(p, "k" + std::to_string(i % 50), tag + std::to_string(i));
    if (i % 100 == 99) sim.advance(5ms);
  }
  sim.advance(20ms);
}

// The backup is down while the primary writes and discards; it comes back
// (`wiped`: with an empty disk) and must come back by checkpoint.
void backup_returns_after_discard(bool wiped) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  write_some(sim, p, 300, "before-");
  sim.crash(b);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 1; });
  write_some(sim, p, 1000, "while-down-");
  sim.discard(p, sim.node(p).applied - 10);
  ASSERT_GT(sim.replica(p).first_seq(), sim.node(b).last_seq() + 1);
  if (wiped) sim.wipe(b);
  sim.restart(b);
  const auto took = sim.until([&] { return sim.arbiter.record.has_member(b, sim.node(b).storage_id); }, 3000ms);
  EXPECT_TRUE(sim.arbiter.record.has_member(b, sim.node(b).storage_id)) << "back in in_sync after " << took.count();
  EXPECT_EQ(sim.checkpoints_installed, 1);
  EXPECT_EQ(sim.node(b).kv, sim.node(p).kv);
  // Writes after the checkpoint flow by entries.
  write_some(sim, p, 200, "after-");
  // The backup learns the commit point with the next append or beacon.
  sim.until([&] { return sim.node(b).applied == sim.node(p).applied; }, 100ms);
  EXPECT_EQ(sim.node(b).kv, sim.node(p).kv);
  // The node that came back by checkpoint takes over with every acknowledged write.
  sim.crash(p);
  sim.until([&] { return sim.primary() == b; });
  ASSERT_EQ(sim.primary(), b);
  EXPECT_TRUE(sim.missing_acked().empty());
  EXPECT_EQ(sim.checkpoints_made, 1);
}

TEST(StoreReplicaCheckpoint, BackupBehindTheDiscardedLogComesBackByCheckpoint) { backup_returns_after_discard(false); }

TEST(StoreReplicaCheckpoint, WipedBackupComesBackByCheckpoint) { backup_returns_after_discard(true); }

TEST(StoreReplicaCheckpoint, InSyncBackupIsFedByEntriesAfterADiscard) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  write_some(sim, p, 500, "v");
  sim.discard(p, sim.node(p).applied - 5);
  write_some(sim, p, 100, "w");
  EXPECT_EQ(sim.checkpoints_made, 0);
  EXPECT_EQ(sim.arbiter.record.in_sync.size(), 2u);
  EXPECT_EQ(sim.node(other(p)).kv, sim.node(p).kv);
}

TEST(StoreReplicaCheckpoint, AFailedFetchIsOfferedAgainAfterTheRetryDelay) {
  Sim sim({"a", "b"}, {}, [](store::ReplicaConfig& c) { c.checkpoint_retry = std::chrono::milliseconds(1000); });
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  sim.crash(b);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 1; });
  write_some(sim, p, 400, "v");
  sim.discard(p, sim.node(p).applied);
  sim.restart(b);
  sim.until([&] { return sim.replica(b).installing_checkpoint(); });
  ASSERT_TRUE(sim.replica(b).installing_checkpoint());
  // The fetch fails (the primary's file went away): the backup says so,
  // keeps its log, and is offered a new checkpoint later, not at once.
  sim.node(b).pending.clear();
  sim.replica(b).checkpoint_failed(sim.local(sim.node(b)), "404");
  EXPECT_FALSE(sim.replica(b).installing_checkpoint());
  sim.advance(500ms);
  EXPECT_EQ(sim.checkpoints_made, 1);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; }, 3000ms);
  EXPECT_EQ(sim.checkpoints_made, 2);
  EXPECT_EQ(sim.checkpoints_installed, 1);
  EXPECT_EQ(sim.node(b).kv, sim.node(p).kv);
}

// Offers a backup must not take: not from the primary it follows, of
// another epoch, or that would cut entries it holds beyond the checkpoint.
TEST(StoreReplicaCheckpoint, OffersThatCouldLoseEntriesAreIgnored) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  write_some(sim, p, 100, "v");
  store::Replica& backup = sim.replica(b);
  const core::TimePoint now = sim.local(sim.node(b));
  auto fetches = [](const store::Actions& actions) {
    for (const auto& a : actions)
      if (std::holds_alternative<store::act::FetchCheckpoint>(a)) return true;
    return false;
  };
  store::CheckpointOffer offer;
  offer.epoch = backup.epoch();
  offer.from = p;
  offer.id = "c1";
  offer.seq = backup.last_seq();  // holds no more than the backup has
  EXPECT_FALSE(fetches(backup.receive(now, store::Message(offer))));
  offer.seq = backup.last_seq() + 100;
  offer.epoch = backup.epoch() - 1;  // a deposed primary's
  EXPECT_FALSE(fetches(backup.receive(now, store::Message(offer))));
  offer.epoch = backup.epoch();
  offer.from = b;  // not the primary (and not a peer)
  EXPECT_FALSE(fetches(backup.receive(now, store::Message(offer))));
  offer.from = p;
  EXPECT_TRUE(fetches(backup.receive(now, store::Message(offer))));
  EXPECT_FALSE(fetches(backup.receive(now, store::Message(offer)))) << "one install at a time";
  EXPECT_TRUE(backup.installing_checkpoint());
  // A primary never installs one.
  store::Replica& primary = sim.replica(p);
  offer.from = b;
  EXPECT_FALSE(fetches(primary.receive(sim.local(sim.node(p)), store::Message(offer))));
}

// The epoch history comes with the checkpoint: a node that was primary in
// an older epoch and returns to a primary that came back by checkpoint
// still cuts exactly its unacknowledged tail (KIP-101 across the base).
TEST(StoreReplicaCheckpoint, EpochHistoryTravelsWithTheCheckpoint) {
  Sim sim({"a", "b"});
  settle(sim);
  const std::string p = *sim.primary();
  const std::string b = other(p);
  sim.crash(b);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 1; });
  write_some(sim, p, 300, "v");
  sim.discard(p, sim.node(p).applied);
  sim.restart(b);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; }, 3000ms);
  ASSERT_EQ(sim.checkpoints_installed, 1);
  EXPECT_EQ(sim.replica(b).epochs(), sim.replica(p).epochs().up_to(sim.node(b).base_seq));
  // The old primary writes a tail nobody acknowledges, then dies.
  sim.net.isolate(p);
  for (int i = 0; i < 5; ++i) sim.write(p, "lost" + std::to_string(i), "x");
  sim.advance(5ms);
  sim.crash(p);
  sim.until([&] { return sim.primary() == b; });
  ASSERT_EQ(sim.primary(), b);
  write_some(sim, b, 20, "new");
  sim.restart(p);
  sim.until([&] { return sim.arbiter.record.in_sync.size() == 2; }, 3000ms);
  EXPECT_EQ(sim.node(p).quarantine.size(), 5u);
  EXPECT_EQ(sim.node(p).kv, sim.node(b).kv);
  EXPECT_TRUE(sim.missing_acked().empty());
}

TEST(StoreMessages, CheckpointOfferRoundTripAndGarbage) {
  store::CheckpointOffer o;
  o.epoch = 4;
  o.from = "a";
  o.id = "ckpt-4-900-1";
  o.seq = 900;
  o.epochs = {{1, 1}, {3, 400}, {4, 800}};
  o.files = {{"000012.sst", 1234, 0xdeadbeef}, {"MANIFEST-000005", 77, 1}, {"CURRENT", 16, 2}};
  std::string wire;
  store::encode(wire, store::Message(o));
  auto d = store::decode_frame(wire);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->message);
  EXPECT_EQ(std::get<store::CheckpointOffer>(*d->message), o);
  auto refused = [](store::CheckpointOffer bad) {
    std::string w;
    store::encode(w, store::Message(bad));
    return !store::decode_frame(w).ok();
  };
  for (const std::string& name : std::vector<std::string>{"..", ".", "a/b", "", "../kv", std::string(256, 'x')}) {
    store::CheckpointOffer bad = o;
    bad.files[1].name = name;
    EXPECT_TRUE(refused(bad)) << "file name '" << name << "'";
    bad = o;
    bad.id = name;
    EXPECT_TRUE(refused(bad)) << "id '" << name << "'";
  }
  store::CheckpointOffer bad = o;
  bad.epochs = {{3, 1}, {2, 5}};  // epochs going down
  EXPECT_TRUE(refused(bad));
  bad.epochs = {{3, 1000}};  // an epoch starting after the checkpoint
  EXPECT_TRUE(refused(bad));
  std::string cut = wire.substr(0, wire.size() - 3);
  cut[0] = static_cast<char>(cut.size() - 4);  // a frame whose file list is cut short
  EXPECT_FALSE(store::decode_frame(cut).ok());
}

}  // namespace
}  // namespace failover::test
