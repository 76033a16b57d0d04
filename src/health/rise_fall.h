#pragma once
// The rise/fall state machine of nginx's `check` and HAProxy's checks: a node
// is down after `fall` consecutive failures and up again after `rise`
// consecutive successes. No I/O, no clock: feed it probe results.
namespace failover::health {

enum class Change { kNone, kPending, kUp, kDown };

class RiseFall {
 public:
  RiseFall(int rise, int fall, bool up) : rise_(rise), fall_(fall), up_(up) {}

  // Takes one probe result; says whether the state changed or is about to.
  Change observe(bool ok) {
    if (ok) { ++successes_; failures_ = 0; } else { ++failures_; successes_ = 0; }
    if (ok == up_) { streak_ = 0; return Change::kNone; }
    if (++streak_ < (up_ ? fall_ : rise_)) return Change::kPending;
    up_ = ok;
    streak_ = 0;
    return up_ ? Change::kUp : Change::kDown;
  }

  // A reload may change rise/fall; the current state and counters stay.
  void set_thresholds(int rise, int fall) { rise_ = rise; fall_ = fall; }
  // Forces a state, e.g. when checks are switched off; clears the streak.
  void force(bool up) { up_ = up; streak_ = 0; }

  bool up() const { return up_; }
  int rise() const { return rise_; }
  int fall() const { return fall_; }
  // Consecutive successes and failures, whatever the state (shown in /status).
  int consecutive_successes() const { return successes_; }
  int consecutive_failures() const { return failures_; }

 private:
  int rise_, fall_;
  bool up_;
  int streak_ = 0;      // results in a row that disagree with the state
  int successes_ = 0;
  int failures_ = 0;
};

}  // namespace failover::health
