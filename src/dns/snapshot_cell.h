#pragma once
// Hands the control thread's newest ZoneSnapshot to the responder threads.
// A reader keeps its own shared_ptr and only takes the lock when the
// version moved, which is once per change, not once per query: the query
// path reads one relaxed atomic and touches no shared reference count.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "dns/zone.h"

namespace failover::dns {

class SnapshotCell {
 public:
  void publish(std::shared_ptr<const ZoneSnapshot> s) {
    std::lock_guard lock(mutex_);
    current_ = std::move(s);
    version_.fetch_add(1, std::memory_order_release);
  }

  // One per reading thread.
  class Reader {
   public:
    explicit Reader(const SnapshotCell& cell) : cell_(cell) {}
    const ZoneSnapshot& get() {
      const std::uint64_t v = cell_.version_.load(std::memory_order_acquire);
      if (v != seen_ || !mine_) {
        std::lock_guard lock(cell_.mutex_);
        mine_ = cell_.current_;
        seen_ = v;
      }
      return *mine_;
    }

   private:
    const SnapshotCell& cell_;
    std::shared_ptr<const ZoneSnapshot> mine_;
    std::uint64_t seen_ = 0;
  };

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ZoneSnapshot> current_ = std::make_shared<ZoneSnapshot>();
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace failover::dns
