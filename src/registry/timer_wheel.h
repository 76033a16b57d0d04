#pragma once
// A hashed timer wheel (Varghese & Lauck, scheme 6): `slots` buckets of one
// `tick` each. An entry goes into the bucket of the tick its deadline falls
// in; an entry more than one turn away stays in its bucket and is skipped
// until its turn comes (it keeps its absolute tick, which serves as the
// rounds counter and cannot drift). schedule and cancel are O(1); advance
// costs one bucket per elapsed tick plus the entries it looks at.
//
// Contract: an entry never fires before its deadline. It fires at the first
// advance() whose `now` reaches the first tick boundary (start + k x tick)
// at or after the deadline, which is less than one tick after it: a caller that advances
// every tick sees it at most one tick late. No I/O, no threads, no clock:
// the caller passes `now`. Single-threaded.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/time.h"

namespace failover::registry {

class TimerWheel {
 public:
  using Key = std::uint64_t;     // the caller's name for an entry
  using Handle = std::uint64_t;  // names one scheduled entry; see cancel()
  static constexpr Handle kNoHandle = 0;  // never returned by schedule()

  // Tick 0 is `start`; a tick under 1 ms or zero slots are raised to 1.
  explicit TimerWheel(core::TimePoint start, core::Duration tick = std::chrono::milliseconds(10),
                      std::size_t slots = 4096);

  // Fires `key` once, at the first advance() whose tick reaches `deadline`.
  // A deadline already passed fires at the next tick.
  Handle schedule(Key key, core::TimePoint deadline);
  // Returns false when `handle` already fired or was cancelled: a handle
  // carries its slot's generation, so a stale one cancels nothing else.
  bool cancel(Handle handle);

  // Calls fire(key) for every entry due by `now`, in tick order (when more
  // than a whole turn passed since the last call, in bucket order instead).
  // The entry is gone before fire runs, so fire may schedule or cancel
  // anything, its own key included. A nested advance() from fire does
  // nothing: the outer one still finishes the work.
  template <class Fire>
  void advance(core::TimePoint now, Fire&& fire);

  std::size_t size() const { return live_; }
  // Entries ever scheduled: lets tests check that work stayed off the wheel.
  std::uint64_t schedules() const { return schedules_; }
  // Entries allocated, live or free for reuse: the most ever live at once.
  std::size_t pool_size() const { return nodes_.size(); }
  core::Duration tick() const { return tick_; }

 private:
  static constexpr std::uint32_t kNil = UINT32_MAX;
  struct Node {
    Key key = 0;
    std::int64_t tick = 0;          // absolute tick number it is due at
    std::uint32_t prev = kNil, next = kNil;
    std::uint32_t list = kNil;      // bucket, firing_list(), or kNil when free
    std::uint32_t gen = 1;          // bumped on free: stale handles miss
  };

  std::int64_t ceil_tick(core::TimePoint t) const;
  std::int64_t floor_tick(core::TimePoint t) const;
  std::uint32_t firing_list() const { return static_cast<std::uint32_t>(slots_); }
  void link(std::uint32_t list, std::uint32_t n);
  void unlink(std::uint32_t n);
  void release(std::uint32_t n);
  // Moves the entries of `bucket` due by `tick` to the firing list.
  void collect_due(std::uint32_t bucket, std::int64_t tick);
  // Takes the next entry off the firing list; false when it is empty.
  bool pop_firing(Key& key);

  core::TimePoint start_;
  core::Duration tick_;
  std::size_t slots_;
  std::int64_t current_ = 0;        // last tick processed; deadlines in it or before are late
  std::vector<Node> nodes_;         // pool: entries are indices, so no allocation per schedule
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> heads_;  // slots_ buckets, then the firing list
  std::size_t live_ = 0;
  std::uint64_t schedules_ = 0;
  bool advancing_ = false;
};

template <class Fire>
void TimerWheel::advance(core::TimePoint now, Fire&& fire) {
  if (advancing_) return;
  advancing_ = true;
  const std::int64_t target = floor_tick(now);
  while (current_ < target) {
    if (live_ == 0) {
      current_ = target;  // nothing to find: skip the empty buckets
      break;
    }
    if (target - current_ > static_cast<std::int64_t>(slots_)) {
      // More than a turn behind (a stalled caller): one sweep finds every
      // due entry, instead of walking each bucket once per missed turn.
      current_ = target;
      for (std::uint32_t b = 0; b < slots_; ++b) collect_due(b, target);
    } else {
      ++current_;
      collect_due(static_cast<std::uint32_t>(current_ % static_cast<std::int64_t>(slots_)), current_);
    }
    Key key;
    while (pop_firing(key)) fire(key);
  }
  advancing_ = false;
}

}  // namespace failover::registry
