#include "health/target.h"

namespace failover::health {

Target::Target(const CheckConfig& check, core::TimePoint now)
    : rise_fall_(check.rise, check.fall, !check.enabled || check.initial_up),
      checked_(check.enabled),
      started_down_(!rise_fall_.up()),
      since_(now) {}

Change Target::observe(const ProbeResult& result, core::TimePoint now) {
  history_.push_back({now, result});
  if (history_.size() > kHistory) history_.pop_front();
  const Change change = rise_fall_.observe(result.ok);
  if (change == Change::kUp || change == Change::kDown) {
    since_ = now;
    started_down_ = false;
  }
  return change;
}

void Target::reconfigure(const CheckConfig& check, core::TimePoint now) {
  rise_fall_.set_thresholds(check.rise, check.fall);
  checked_ = check.enabled;
  if (!checked_ && !rise_fall_.up()) {
    rise_fall_.force(true);
    since_ = now;
    started_down_ = false;
  }
}

std::string Target::reason() const {
  if (!checked_) return "no active check";
  const std::string last = history_.empty() ? "none" : cause_name(history_.back().result.cause);
  const std::string so_far = " (" + std::to_string(successes()) + " so far)";
  if (!up() && started_down_)
    return "starts down (initial: down) until " + std::to_string(rise()) + " checks pass" + so_far;
  if (!up())
    return "active check failed " + std::to_string(fall()) + " times in a row (last: " + last +
           "); up again after " + std::to_string(rise()) + " passing checks" + so_far;
  if (history_.empty()) return "no check yet; up until " + std::to_string(fall()) + " fail";
  if (failures() > 0)
    return "active check failing (" + std::to_string(failures()) + " of " + std::to_string(fall()) +
           ", last: " + last + ")";
  return "active check passing";
}

}  // namespace failover::health
