#pragma once
// The health of one checked node, as every role keeps it: the rise/fall
// state, since when it holds, the last checks and why it is what it is. No
// I/O and no clock: the caller passes each probe result with the time it
// came. Used by the LB (a server), the DNS server (a target) and the agent
// (a local service).
#include <cstddef>
#include <deque>
#include <string>

#include "core/time.h"
#include "health/check_config.h"
#include "health/probe_result.h"
#include "health/rise_fall.h"

namespace failover::health {

struct CheckRecord {
  core::TimePoint at;
  ProbeResult result;
};

class Target {
 public:
  // Starts in check.initial_up (up when there is no check: passive
  // detection or nothing else decides then).
  Target(const CheckConfig& check, core::TimePoint now);

  // Takes one probe result. kUp/kDown when it changed the state (since()
  // moves to `now`), kPending while results disagree with the state but are
  // not yet rise or fall of them, kNone otherwise.
  Change observe(const ProbeResult& result, core::TimePoint now);

  // New thresholds on reload; the state, streaks and history stay. A check
  // switched off leaves the node up.
  void reconfigure(const CheckConfig& check, core::TimePoint now);

  bool up() const { return rise_fall_.up(); }
  // Results disagree with the state: the scheduler probes at fast_interval.
  bool pending() const { return up() ? failures() > 0 : checked_ && successes() > 0; }
  core::TimePoint since() const { return since_; }
  int rise() const { return rise_fall_.rise(); }
  int fall() const { return rise_fall_.fall(); }
  int successes() const { return rise_fall_.consecutive_successes(); }
  int failures() const { return rise_fall_.consecutive_failures(); }
  bool checked() const { return checked_; }
  // The last kHistory checks, oldest first.
  const std::deque<CheckRecord>& history() const { return history_; }
  static constexpr std::size_t kHistory = 10;

  // Why it is in its state, for /status and logs, e.g. "active check failed
  // 3 times in a row (last: refused); up again after 2 passing checks (0 so
  // far)" or "starts down (initial: down) until 2 checks pass (1 so far)".
  std::string reason() const;

 private:
  RiseFall rise_fall_;
  bool checked_;
  bool started_down_;  // down from the start, and no transition since
  core::TimePoint since_;
  std::deque<CheckRecord> history_;
};

}  // namespace failover::health
