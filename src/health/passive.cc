#include "health/passive.h"

#include <algorithm>

namespace failover::health {
namespace {

using std::chrono::milliseconds;

// fail_timeout << level without overflowing: the doubling stops at the cap,
// however high the level climbed.
milliseconds ejection_length(const PassiveConfig& config, int level) {
  const milliseconds cap = std::max(config.max_ejection, milliseconds(0));
  milliseconds length = std::max(config.fail_timeout, milliseconds(0));
  for (int i = 0; i < level && length < cap; ++i) length *= 2;
  return std::min(length, cap);
}

}  // namespace

bool PassiveEjector::on_failure(core::TimePoint now) {
  if (config_.max_fails <= 0) return false;
  // The request was already retried elsewhere; counting these would only
  // stretch an ejection the server cannot end by getting better.
  if (ejected(now)) return false;

  const core::TimePoint window_start = now - config_.fail_timeout;
  while (!failures_.empty() && failures_.front() <= window_start) failures_.pop_front();
  failures_.push_back(now);
  // A reload may have lowered max_fails; older entries no longer matter.
  while (failures_.size() > static_cast<std::size_t>(config_.max_fails)) failures_.pop_front();
  if (failures_.size() < static_cast<std::size_t>(config_.max_fails)) return false;

  // Back off harder on a server that fails again soon after it came back
  // (flapping); forgive it once it held up for twice its last ejection.
  if (ejections_ > 0 && now < ejected_until_ + 2 * last_ejection_) {
    // Past the cap a higher level changes nothing; stop it from growing.
    if (ejection_length(config_, level_) < config_.max_ejection) ++level_;
  } else {
    level_ = 0;
  }
  last_ejection_ = ejection_length(config_, level_);
  ejected_at_ = now;
  ejected_until_ = now + last_ejection_;
  ++ejections_;
  // The server starts from a clean slate when it returns.
  failures_.clear();
  return true;
}

int PassiveEjector::level(core::TimePoint now) const {
  if (ejections_ == 0 || now >= ejected_until_ + 2 * last_ejection_) return 0;
  return level_;
}

int PassiveEjector::recent_failures(core::TimePoint now) const {
  const core::TimePoint window_start = now - config_.fail_timeout;
  return static_cast<int>(std::count_if(failures_.begin(), failures_.end(),
                                        [&](core::TimePoint t) { return t > window_start; }));
}

}  // namespace failover::health
