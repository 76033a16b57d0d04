#pragma once
// A simulated store cluster for the replica state machine's tests: every
// node's Replica, a log with a durable prefix (a crash keeps only what was
// fsynced), the arbiter's record, and test::Network between the nodes, all
// driven by one simulated time in 1 ms steps. Nothing sleeps; every run is
// the same run.
//
// Each node's clock runs at its own rate (drift), so the lease arithmetic is
// tested as it would meet real clocks; the invariants are checked in real
// (simulated) time after every step:
//  - at most one node may serve reads at any instant;
//  - at most one primary per epoch, ever;
//  - a node serving reads holds every write acknowledged so far;
//  - an acknowledged write is never lost (missing_acked() at the end).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/record.h"
#include "store/replica.h"
#include "support/network.h"

namespace failover::test {

using namespace std::chrono_literals;
using store::Role;

// The arbiter: one record, compare-and-set on its version, reachable or not.
struct SimArbiter {
  arbiter::Record record{"cluster-1", 1, 0, "", {}};
  bool down = false;
  int lose_next_cas_answers = 0;  // the CAS lands, its answer is lost (kTimeout)
  std::vector<arbiter::Record> history{record};

  core::Result<arbiter::Record> read() const {
    if (down) return core::Error::unavailable("arbiter down");
    return record;
  }
  // The answer, and the record that won on a conflict.
  std::pair<core::Result<arbiter::Record>, std::optional<arbiter::Record>> cas(std::uint64_t expected,
                                                                              const arbiter::Record& proposed) {
    if (down) return {core::Error::unavailable("arbiter down"), std::nullopt};
    if (record.version != expected) return {core::Error::conflict("version moved"), record};
    EXPECT_TRUE(arbiter::check_transition(record, proposed).ok()) << arbiter::to_json(proposed);
    record = proposed;
    history.push_back(record);
    if (lose_next_cas_answers > 0) {
      --lose_next_cas_answers;
      return {core::Error::timeout("answer lost"), std::nullopt};
    }
    return {record, std::nullopt};
  }
};

struct AckedWrite {
  std::uint64_t epoch = 0, seq = 0;
  std::string key, value;
  core::TimePoint at{};
};

class Sim;

struct SimNode {
  std::string name;
  std::string storage_id;
  double rate = 1.0;              // its clock's speed against real time
  bool up = true;
  bool paused = false;            // SIGSTOP: no events, no timers
  bool arbiter_cut = false;
  std::unique_ptr<store::Replica> replica;

  // The disk.
  std::vector<store::Entry> log;  // everything written
  std::uint64_t durable = 0;      // fsynced through here (by seq)
  std::string cluster_id;
  std::uint64_t highest_epoch = 0;
  std::uint64_t applied = 0;
  std::map<std::string, std::string> kv;
  std::vector<store::Entry> quarantine;

  // Pending I/O completions, in real time.
  struct Pending {
    core::TimePoint due;
    std::function<void()> run;
  };
  std::vector<Pending> pending;
  struct Waiter {
    std::uint64_t seq;
    std::string key, value;
  };
  std::vector<Waiter> waiters;
  std::vector<std::string> notes;
  std::vector<std::pair<Role, core::TimePoint>> roles;  // role changes, real time

  std::uint64_t last_seq() const { return log.empty() ? base_seq : log.back().seq; }
  // Entries before base_seq+1 were discarded (they are in the applied state)
  // or came in a checkpoint; `gone` keeps them for the checks only.
  std::uint64_t base_seq = 0;
  store::EpochHistory base_epochs;
  std::map<std::uint64_t, store::Entry> gone;
  const store::Entry* entry(std::uint64_t seq) const {
    if (seq <= base_seq || seq > last_seq()) return nullptr;
    return &log[seq - base_seq - 1];
  }
  // What the node holds at `seq`, in its log or in its state.
  const store::Entry* held(std::uint64_t seq) const {
    if (seq > base_seq) return entry(seq);
    auto it = gone.find(seq);
    return it == gone.end() ? nullptr : &it->second;
  }
};

class Sim {
 public:
  Sim(const Sim&) = delete;  // pending I/O holds `this`
  Sim& operator=(const Sim&) = delete;
  store::ReplicaConfig base;  // node and peers are filled per node
  SimArbiter arbiter;
  Network net{7};
  core::TimePoint t0 = core::TimePoint(std::chrono::hours(100));
  core::TimePoint now = t0;
  core::Duration fsync_time{1};
  core::Duration arbiter_rtt{1};
  std::map<std::string, SimNode> nodes;
  std::vector<AckedWrite> acked;
  int failed_writes = 0;
  std::map<std::uint64_t, std::string> primary_of_epoch;
  bool check_invariants = true;

  // Every node runs `base`, as changed by `tune`; `rates` sets clock speeds.
  explicit Sim(std::vector<std::string> names, std::map<std::string, double> rates = {},
               const std::function<void(store::ReplicaConfig&)>& tune = {}) {
    base.heartbeat_interval = 50ms;
    base.heartbeat_timeout = 250ms;
    base.lease = 200ms;
    if (tune) tune(base);
    for (const auto& n : names) {
      SimNode& node = nodes[n];
      node.name = n;
      node.storage_id = "disk-" + n;
      node.rate = rates.contains(n) ? rates[n] : 1.0;
    }
    for (auto& [n, node] : nodes) boot(node);
  }

  SimNode& node(const std::string& n) { return nodes.at(n); }
  store::Replica& replica(const std::string& n) { return *nodes.at(n).replica; }

  core::TimePoint local(const SimNode& n) const {
    const auto real = std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0);
    return t0 + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(real.count()) * n.rate));
  }

  void boot(SimNode& n) {
    store::ReplicaConfig c = base;
    c.node = n.name;
    c.peers.clear();
    for (const auto& [other, _] : nodes)
      if (other != n.name) c.peers.push_back(other);
    store::ReplicaStart s;
    s.storage_id = n.storage_id;
    s.cluster_id = n.cluster_id;
    s.highest_epoch = n.highest_epoch;
    s.first_seq = n.base_seq + 1;
    s.last_seq = n.last_seq();
    s.applied_seq = n.applied;
    s.epochs = n.base_epochs;
    if (n.base_seq > 0 && s.epochs.empty()) s.epochs.add(1, n.base_seq);
    for (const auto& e : n.log) s.epochs.add(e.epoch, e.seq);
    n.replica = std::make_unique<store::Replica>(c, std::move(s), local(n));
    n.up = true;
    n.paused = false;
    run(n, n.replica->start(local(n)));
  }

  // The node flushed its state and dropped the log before `before_seq`.
  void discard(const std::string& name, std::uint64_t before_seq) {
    SimNode& n = node(name);
    ASSERT_LE(before_seq, n.applied + 1) << name << " discards entries it has not applied";
    n.base_epochs = n.replica->epochs().up_to(before_seq - 1);
    while (n.base_seq + 1 < before_seq && !n.log.empty()) {
      n.gone[n.log.front().seq] = n.log.front();
      n.log.erase(n.log.begin());
      ++n.base_seq;
    }
    run(n, n.replica->log_discarded(local(n), n.base_seq + 1));
  }
  int checkpoints_made = 0, checkpoints_installed = 0;

  // SIGKILL: everything not fsynced is gone, waiting clients get no answer.
  void crash(const std::string& name) {
    SimNode& n = node(name);
    n.up = false;
    n.replica.reset();
    n.pending.clear();
    n.waiters.clear();
    while (n.last_seq() > n.durable) n.log.pop_back();
    net.isolate(name);
  }
  void restart(const std::string& name) {
    SimNode& n = node(name);
    // The applied state survives only up to what the log holds durably.
    if (n.applied > n.durable) rebuild_kv(n, n.durable);
    net.rejoin(name);
    boot(n);
    // Its links and the others' links to it connect.
    for (auto& [other, o] : nodes) {
      if (other == name || !o.up) continue;
      run(o, o.replica->link_up(local(o), name));
      run(n, n.replica->link_up(local(n), other));
    }
  }
  // A wiped data_dir: a new disk identity and nothing on it.
  void wipe(const std::string& name) {
    SimNode& n = node(name);
    n.log.clear();
    n.gone.clear();
    n.base_epochs = {};
    n.durable = n.applied = n.base_seq = 0;
    n.kv.clear();
    n.cluster_id.clear();
    n.highest_epoch = 0;
    n.storage_id += "-wiped";
  }

  // A client write at `name`; false when refused at once.
  bool write(const std::string& name, std::string key, std::string value) {
    SimNode& n = node(name);
    if (!n.up || n.paused) return false;
    auto r = n.replica->propose(local(n), {{store::Op::kPut, key, value, ""}});
    if (std::holds_alternative<store::Refusal>(r)) {
      ++failed_writes;
      return false;
    }
    auto& p = std::get<store::Replica::Proposed>(r);
    n.waiters.push_back({p.first_seq, std::move(key), std::move(value)});
    run(n, std::move(p.actions));
    return true;
  }

  // Carries out what a node's replica asked for outside an event (an
  // operator's call such as a switchover).
  void carry_out(const std::string& name, store::Actions actions) { run(node(name), std::move(actions)); }

  std::optional<std::string> primary() const {
    std::optional<std::string> out;
    for (const auto& [name, n] : nodes)
      if (n.up && n.replica->role() == Role::kPrimary && !n.replica->read_refusal(local(n))) out = name;
    return out;
  }

  // Moves real time by `d` in 1 ms steps, delivering, completing I/O and
  // ticking each node at its own clock.
  void advance(core::Duration d) {
    for (core::Duration done{0}; done < d; done += 1ms) step();
  }
  // Steps until `pred` or `limit`; returns the time it took.
  core::Duration until(const std::function<bool()>& pred, core::Duration limit = 5000ms) {
    const core::TimePoint start = now;
    while (!pred() && now - start < limit) step();
    return std::chrono::duration_cast<core::Duration>(now - start);
  }

  void step() {
    now += 1ms;
    net.advance(1ms);
    for (int round = 0; round < 8; ++round) {
      bool any = false;
      net.deliver_all();
      for (auto& [name, n] : nodes) {
        if (!n.up || n.paused) continue;
        for (auto& m : net.take(name)) {
          auto decoded = store::decode_frame(m.payload);
          ASSERT_TRUE(decoded.ok() && decoded->message) << "bad frame from " << m.from;
          run(n, n.replica->receive(local(n), *decoded->message));
          any = true;
        }
        any |= complete_io(n);
      }
      if (!any) break;
    }
    for (auto& [name, n] : nodes)
      if (n.up && !n.paused) run(n, n.replica->tick(local(n)));
    if (check_invariants) check();
  }

  // Acknowledged writes that the current primary's log does not hold.
  std::vector<AckedWrite> missing_acked() const {
    std::vector<AckedWrite> out;
    auto p = primary();
    if (!p) return acked;
    const SimNode& n = nodes.at(*p);
    for (const auto& w : acked) {
      const store::Entry* e = n.held(w.seq);
      if (!e || e->epoch != w.epoch || e->key != w.key || e->value != w.value) out.push_back(w);
    }
    return out;
  }

 private:
  bool complete_io(SimNode& n) {
    bool any = false;
    while (true) {
      auto it = std::find_if(n.pending.begin(), n.pending.end(), [&](const auto& p) { return p.due <= now; });
      if (it == n.pending.end()) break;
      auto run_it = std::move(it->run);
      n.pending.erase(it);
      run_it();
      any = true;
      if (!n.up || n.paused) break;
    }
    return any;
  }

  void later(SimNode& n, core::Duration d, std::function<void()> f) { n.pending.push_back({now + d, std::move(f)}); }

  void rebuild_kv(SimNode& n, std::uint64_t upto) {
    n.kv.clear();
    n.applied = n.base_seq;
    apply(n, upto);
  }
  void apply(SimNode& n, std::uint64_t upto) {
    for (std::uint64_t s = n.applied + 1; s <= upto; ++s) {
      const store::Entry* e = n.entry(s);
      ASSERT_NE(e, nullptr) << n.name << " commits seq " << s << " it does not hold";
      if (e->op == store::Op::kPut) n.kv[e->key] = e->value;
      if (e->op == store::Op::kDelete) n.kv.erase(e->key);
    }
    n.applied = std::max(n.applied, upto);
  }

  void run(SimNode& n, store::Actions actions) {
    const std::string name = n.name;
    for (auto& a : actions) {
      if (!n.up) return;
      std::visit([&](auto& x) { act(n, x); }, a);
    }
  }

  void act(SimNode& n, store::act::Send& a) {
    std::string frame;
    store::encode(frame, a.message);
    net.send(n.name, a.to, std::move(frame));
  }
  void act(SimNode& n, store::act::SendAppend& a) {
    for (std::uint64_t s = a.append.prev_seq + 1; s <= a.upto; ++s) {
      const store::Entry* e = n.entry(s);
      if (!e) return;  // cut meanwhile; the peer will ask again
      a.append.entries.push_back(*e);
    }
    std::string frame;
    store::encode(frame, store::Message(a.append));
    net.send(n.name, a.to, std::move(frame), static_cast<int>(a.lane));
  }
  void act(SimNode& n, store::act::AppendLocal& a) {
    for (auto& e : a.entries) {
      ASSERT_EQ(e.seq, n.last_seq() + 1) << n.name;
      n.log.push_back(e);
    }
    const std::uint64_t upto = n.last_seq();
    const std::string name = n.name;
    later(n, fsync_time, [this, name, upto] {
      SimNode& m = node(name);
      m.durable = std::max(m.durable, std::min(upto, m.last_seq()));
      run(m, m.replica->local_durable(local(m), upto));
    });
  }
  void act(SimNode& n, store::act::TruncateLog& a) {
    ASSERT_GE(a.after_seq, n.applied) << n.name << " truncates applied entries";
    while (n.last_seq() > a.after_seq) {
      n.quarantine.push_back(n.log.back());
      n.log.pop_back();
    }
    n.durable = std::min(n.durable, a.after_seq);
    const std::string name = n.name;
    const std::uint64_t after = a.after_seq;
    later(n, fsync_time, [this, name, after] {
      SimNode& m = node(name);
      run(m, m.replica->truncated(local(m), after));
    });
  }
  void act(SimNode& n, store::act::ReadRecord&) {
    const std::string name = n.name;
    later(n, arbiter_rtt, [this, name] {
      SimNode& m = node(name);
      core::Result<arbiter::Record> r = m.arbiter_cut ? core::Error::unavailable("cut") : arbiter.read();
      run(m, m.replica->record_read(local(m), r));
    });
  }
  void act(SimNode& n, store::act::CasRecord& a) {
    const std::string name = n.name;
    // The CAS lands half way, the answer comes at the end of the round trip.
    auto answer = n.arbiter_cut ? std::make_pair(core::Result<arbiter::Record>(core::Error::unavailable("cut")),
                                                 std::optional<arbiter::Record>())
                                : arbiter.cas(a.expected_version, a.proposed);
    if (answer.first.ok()) {
      const auto& r = *answer.first;
      if (r.epoch > 0 && primary_of_epoch.contains(r.epoch)) {
        EXPECT_EQ(primary_of_epoch[r.epoch], r.primary) << "two primaries in epoch " << r.epoch;
      }
      primary_of_epoch[r.epoch] = r.primary;
    }
    later(n, arbiter_rtt, [this, name, answer] {
      SimNode& m = node(name);
      run(m, m.replica->cas_done(local(m), answer.first, answer.second));
    });
  }
  void act(SimNode& n, store::act::SaveMeta& a) {
    n.cluster_id = a.cluster_id;
    n.highest_epoch = std::max(n.highest_epoch, a.highest_epoch);
  }
  void act(SimNode& n, store::act::Commit& a) {
    apply(n, a.upto);
    std::erase_if(n.waiters, [&](const SimNode::Waiter& w) {
      if (w.seq > a.upto) return false;
      const store::Entry* e = n.entry(w.seq);
      EXPECT_TRUE(e && e->key == w.key && e->value == w.value) << n.name << " acknowledges a write it replaced";
      acked.push_back({e ? e->epoch : 0, w.seq, w.key, w.value, now});
      return true;
    });
  }
  void act(SimNode& n, store::act::FailWrites& a) {
    std::erase_if(n.waiters, [&](const SimNode::Waiter& w) {
      if (w.seq <= a.after_seq) return false;
      ++failed_writes;
      return true;
    });
  }
  // A checkpoint is the applied state and what it was built from, taken
  // when it is made; the offer reaches the peer a little later.
  struct Checkpoint {
    std::map<std::string, std::string> kv;
    std::map<std::uint64_t, store::Entry> entries;
  };
  std::map<std::string, Checkpoint> checkpoints;
  void act(SimNode& n, store::act::SendCheckpoint& a) {
    const std::string id = "ckpt-" + std::to_string(++checkpoints_made);
    Checkpoint& c = checkpoints[id];
    c.kv = n.kv;
    c.entries = n.gone;
    for (std::uint64_t s = n.base_seq + 1; s <= n.applied; ++s) c.entries[s] = *n.entry(s);
    store::CheckpointOffer offer;
    offer.epoch = n.replica->epoch();
    offer.from = n.name;
    offer.id = id;
    offer.seq = n.applied;
    offer.epochs = n.replica->epochs().up_to(n.applied).starts();
    std::string frame;
    store::encode(frame, store::Message(offer));
    net.send(n.name, a.to, std::move(frame));
  }
  void act(SimNode& n, store::act::FetchCheckpoint& a) {
    const std::string name = n.name;
    later(n, 10ms, [this, name, offer = a.offer] {
      SimNode& m = node(name);
      const Checkpoint& c = checkpoints.at(offer.id);
      m.log.clear();
      m.gone = c.entries;
      m.kv = c.kv;
      m.base_seq = m.durable = m.applied = offer.seq;
      m.base_epochs = {};
      for (const auto& e : offer.epochs) m.base_epochs.add(e.epoch, e.first_seq);
      ++checkpoints_installed;
      run(m, m.replica->checkpoint_installed(local(m), offer));
    });
  }
  void act(SimNode& n, store::act::RoleChanged& a) { n.roles.emplace_back(a.to, now); }
  void act(SimNode& n, store::act::Note& a) { n.notes.push_back(a.text); }

  void check() {
    int serving = 0;
    for (auto& [name, n] : nodes) {
      if (!n.up) continue;
      const store::Replica& r = *n.replica;
      if (r.role() == Role::kPrimary) {
        auto it = primary_of_epoch.find(r.epoch());
        if (it != primary_of_epoch.end()) {
          EXPECT_EQ(it->second, name) << "epoch " << r.epoch();
        }
      }
      if (n.paused || r.read_refusal(local(n))) continue;
      ++serving;
      // A read here now sees every acknowledged write.
      for (const auto& w : acked) {
        if (w.seq > n.applied) {
          ADD_FAILURE() << name << " serves reads without acknowledged seq " << w.seq;
          check_invariants = false;
          break;
        }
      }
    }
    if (serving > 1) {
      ADD_FAILURE() << serving << " nodes serve reads at once";
      check_invariants = false;  // one report is enough
    }
  }
};

}  // namespace failover::test
