#include "registry/timer_wheel.h"

#include <algorithm>
#include <cassert>

namespace failover::registry {

TimerWheel::TimerWheel(core::TimePoint start, core::Duration tick, std::size_t slots)
    : start_(start),
      tick_(std::max(tick, core::Duration(1))),
      slots_(std::max<std::size_t>(slots, 1)),
      heads_(slots_ + 1, kNil) {}

// Tick numbers count from start_ in the clock's own resolution, so that a
// deadline 1 ns past a tick boundary lands in the next tick (never early).
std::int64_t TimerWheel::ceil_tick(core::TimePoint t) const {
  const auto d = (t - start_).count();
  const auto w = std::chrono::duration_cast<core::TimePoint::duration>(tick_).count();
  if (d <= 0) return 0;
  return (d + w - 1) / w;
}

std::int64_t TimerWheel::floor_tick(core::TimePoint t) const {
  const auto d = (t - start_).count();
  const auto w = std::chrono::duration_cast<core::TimePoint::duration>(tick_).count();
  if (d < 0) return -1;  // before start: not even tick 0 has begun
  return d / w;
}

TimerWheel::Handle TimerWheel::schedule(Key key, core::TimePoint deadline) {
  std::uint32_t n;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
  } else {
    n = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& node = nodes_[n];
  node.key = key;
  // A tick already processed will not be visited again until a turn later,
  // so a late deadline goes to the next one.
  node.tick = std::max(ceil_tick(deadline), current_ + 1);
  link(static_cast<std::uint32_t>(node.tick % static_cast<std::int64_t>(slots_)), n);
  ++live_;
  ++schedules_;
  return (static_cast<Handle>(node.gen) << 32) | n;
}

bool TimerWheel::cancel(Handle handle) {
  const auto n = static_cast<std::uint32_t>(handle & 0xffff'ffffu);
  const auto gen = static_cast<std::uint32_t>(handle >> 32);
  if (n >= nodes_.size() || nodes_[n].gen != gen || nodes_[n].list == kNil) return false;
  unlink(n);
  release(n);
  return true;
}

void TimerWheel::link(std::uint32_t list, std::uint32_t n) {
  Node& node = nodes_[n];
  node.list = list;
  node.prev = kNil;
  node.next = heads_[list];
  if (node.next != kNil) nodes_[node.next].prev = n;
  heads_[list] = n;
}

void TimerWheel::unlink(std::uint32_t n) {
  Node& node = nodes_[n];
  assert(node.list != kNil);
  if (node.prev != kNil) {
    nodes_[node.prev].next = node.next;
  } else {
    heads_[node.list] = node.next;
  }
  if (node.next != kNil) nodes_[node.next].prev = node.prev;
  node.prev = node.next = kNil;
}

void TimerWheel::release(std::uint32_t n) {
  Node& node = nodes_[n];
  node.list = kNil;
  if (++node.gen == 0) node.gen = 1;  // keep handles nonzero (kNoHandle)
  free_.push_back(n);
  --live_;
}

void TimerWheel::collect_due(std::uint32_t bucket, std::int64_t tick) {
  std::uint32_t n = heads_[bucket];
  while (n != kNil) {
    const std::uint32_t next = nodes_[n].next;
    if (nodes_[n].tick <= tick) {
      unlink(n);
      link(firing_list(), n);
    }
    n = next;
  }
}

bool TimerWheel::pop_firing(Key& key) {
  // The list is re-read each time because a callback may have cancelled
  // entries still waiting on it.
  const std::uint32_t n = heads_[firing_list()];
  if (n == kNil) return false;
  key = nodes_[n].key;
  unlink(n);
  release(n);
  return true;
}

}  // namespace failover::registry
