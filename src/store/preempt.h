#pragma once
// When a node with `preempt: true` (the preferred primary) asks for its role
// back: once it has been an in-sync backup of a live primary for
// `hold_down` without a break, and then at most once per hold_down while it
// still is one (a refused or lost request is asked again). Any break (it
// leaves in_sync, loses its primary, restarts) starts the hold-down again,
// so a flapping node never ping-pongs the role, as keepalived's
// preempt_delay. Pure: `now` and what the node is in, a yes or no out.
#include <optional>

#include "core/time.h"

namespace failover::store {

class PreemptHoldDown {
 public:
  explicit PreemptHoldDown(core::Duration hold_down) : hold_down_(hold_down) {}

  // Called on every tick with whether this node is an in-sync backup of a
  // primary it hears from; true when it should ask for the role now.
  bool due(core::TimePoint now, bool in_sync_backup) {
    if (!in_sync_backup) {
      since_.reset();
      return false;
    }
    if (!since_) {
      since_ = now;
      next_ask_ = now + hold_down_;
    }
    if (now < next_ask_) return false;
    next_ask_ = now + hold_down_;
    return true;
  }

 private:
  core::Duration hold_down_;
  std::optional<core::TimePoint> since_;  // in sync without a break since
  core::TimePoint next_ask_{};
};

}  // namespace failover::store
