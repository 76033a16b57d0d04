#pragma once
// An in-memory network for protocol tests (after etcd-io/raft's `network`):
// nodes are names, send() only queues, and the test decides when messages
// arrive, so a partition is one line and every run is the same run.
//
// Rules, so that a test can reason about what arrives:
//  - A message arrives only if its link is up both when it is sent and when it
//    is delivered: a cut also loses what was in flight on that link.
//  - drop() is decided once, at send(), by an RNG seeded in the constructor;
//    the same seed and the same calls drop the same messages.
//  - delay() holds messages until now() has moved past send time + delay;
//    due messages arrive in (due time, send order), so equal delays keep FIFO.
//  - heal() undoes every cut, isolate, drop and delay; it does not bring back
//    messages that were already lost.
//  - A message travels on a lane (0 unless given), like one of several
//    connections between two nodes: drop() and delay() may name a lane, and
//    then hold or lose only that lane's messages; a cut cuts every lane.
// Pure: no sockets, threads or clocks. now() moves only through advance().
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/time.h"

namespace failover::test {

struct Message {
  std::string from;
  std::string to;
  std::string payload;
  int lane = 0;
  friend bool operator==(const Message&, const Message&) = default;
};

class Network {
 public:
  explicit Network(std::uint64_t seed = 1) : rng_(seed) {}

  // Queues `payload` from `from` to `to`; lost at once if the link is cut or
  // isolated, or if the drop roll for that direction says so.
  void send(std::string_view from, std::string_view to, std::string payload, int lane = 0) {
    Message m{std::string(from), std::string(to), std::move(payload), lane};
    if (!link_up(m.from, m.to) || roll_drop(m.from, m.to, lane)) {
      ++dropped_;
      return;
    }
    const core::Duration due = now_ + delay_of(m.from, m.to, lane);
    queue_.emplace(Key{due, next_seq_++}, std::move(m));
  }

  // Delivers the earliest due message into its receiver's inbox. Due messages
  // whose link is now cut are lost on the way. False when none was delivered.
  bool deliver_one() {
    while (!queue_.empty() && queue_.begin()->first.due <= now_) {
      auto node = queue_.extract(queue_.begin());
      Message& m = node.mapped();
      if (!link_up(m.from, m.to)) {
        ++dropped_;
        continue;
      }
      inboxes_[m.to].push_back(std::move(m));
      return true;
    }
    return false;
  }

  // Delivers every message due now; returns how many arrived.
  std::size_t deliver_all() {
    std::size_t n = 0;
    while (deliver_one()) ++n;
    return n;
  }

  // Moves the network's time (only delays read it).
  void advance(core::Duration d) { now_ += d; }
  core::Duration now() const { return now_; }

  // Cuts the link between a and b, both directions.
  void cut(std::string_view a, std::string_view b) {
    cut_.emplace(std::string(a), std::string(b));
    cut_.emplace(std::string(b), std::string(a));
  }
  // Cuts `a` from every other node, including nodes first named later.
  void isolate(std::string_view a) { isolated_.emplace(a); }
  // Undoes isolate(a) (a restarted node is back on the network); cuts stay.
  void rejoin(std::string_view a) { isolated_.erase(std::string(a)); }
  // Every link up, no drops, no delays.
  void heal() {
    cut_.clear();
    isolated_.clear();
    drop_.clear();
    delay_.clear();
  }
  // Loses each message from `from` to `to` (that direction only, on `lane`
  // or on every lane) with `probability` in [0, 1].
  void drop(std::string_view from, std::string_view to, double probability, int lane = kEveryLane) {
    drop_[{std::string(from), std::string(to), lane}] = probability;
  }
  // Holds each message from `from` to `to` (that direction only, on `lane`
  // or on every lane) for `d`.
  void delay(std::string_view from, std::string_view to, core::Duration d, int lane = kEveryLane) {
    delay_[{std::string(from), std::string(to), lane}] = d;
  }
  static constexpr int kEveryLane = -1;

  // What `node` received and has not taken yet, oldest first.
  const std::deque<Message>& inbox(std::string_view node) const {
    static const std::deque<Message> kEmpty;
    auto it = inboxes_.find(std::string(node));
    return it == inboxes_.end() ? kEmpty : it->second;
  }
  // Empties `node`'s inbox and returns what was in it, oldest first.
  std::vector<Message> take(std::string_view node) {
    std::vector<Message> out;
    auto it = inboxes_.find(std::string(node));
    if (it == inboxes_.end()) return out;
    out.assign(std::make_move_iterator(it->second.begin()), std::make_move_iterator(it->second.end()));
    it->second.clear();
    return out;
  }

  // Messages queued and not yet delivered or lost (due or not).
  std::size_t in_flight() const { return queue_.size(); }
  // Messages lost so far, to a cut, an isolation or a drop.
  std::size_t dropped() const { return dropped_; }

 private:
  using Link = std::pair<std::string, std::string>;  // (from, to)
  using LaneOfLink = std::tuple<std::string, std::string, int>;  // (from, to, lane or kEveryLane)

  // The setting for `lane` of the link, else the one for every lane.
  template <typename T>
  static T of_lane(const std::map<LaneOfLink, T>& settings, const std::string& from, const std::string& to, int lane) {
    if (auto it = settings.find({from, to, lane}); it != settings.end()) return it->second;
    if (auto it = settings.find({from, to, kEveryLane}); it != settings.end()) return it->second;
    return T{};
  }
  struct Key {
    core::Duration due;
    std::uint64_t seq;
    bool operator<(const Key& o) const { return due != o.due ? due < o.due : seq < o.seq; }
  };

  bool link_up(const std::string& from, const std::string& to) const {
    if (from != to && (isolated_.contains(from) || isolated_.contains(to))) return false;
    return !cut_.contains({from, to});
  }
  bool roll_drop(const std::string& from, const std::string& to, int lane) {
    const double probability = of_lane(drop_, from, to, lane);
    if (probability <= 0) return false;
    // Built from the engine's raw bits: std::uniform_real_distribution is
    // implementation-defined, and a seed must mean the same drops everywhere.
    const double roll = static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // [0, 1)
    return roll < probability;
  }
  core::Duration delay_of(const std::string& from, const std::string& to, int lane) const {
    return of_lane(delay_, from, to, lane);
  }

  std::mt19937_64 rng_;
  core::Duration now_{0};
  std::uint64_t next_seq_ = 0;
  std::size_t dropped_ = 0;
  std::map<Key, Message> queue_;
  std::map<std::string, std::deque<Message>> inboxes_;
  std::set<Link> cut_;
  std::set<std::string, std::less<>> isolated_;
  std::map<LaneOfLink, double> drop_;
  std::map<LaneOfLink, core::Duration> delay_;
};

}  // namespace failover::test
