#pragma once
// `notify: {primary: CMD, backup: CMD, fenced: CMD}`: a command run on
// every change of this node's role to that role, as keepalived's notify
// scripts and Patroni's callbacks, with the old role, the new one and the
// epoch as its arguments (`CMD backup primary 7`, through /bin/sh).
//
// A slow or failing script never holds up the role change: it is started
// and left to run; finished ones are collected on the next start or
// collect(), and a non-zero exit is logged. One that is still running after
// kMaxRun is killed. The child gets none of the node's sockets or files.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"

namespace failover::store {

class NotifyRunner {
 public:
  static constexpr std::chrono::seconds kMaxRun{60};

  explicit NotifyRunner(const core::Clock& clock) : clock_(clock) {}
  ~NotifyRunner();  // kills what still runs
  NotifyRunner(const NotifyRunner&) = delete;
  NotifyRunner& operator=(const NotifyRunner&) = delete;

  // Starts `command` with `args`; false (logged) when it cannot be started.
  bool start(const std::string& command, const std::vector<std::string>& args);
  // Reaps the finished ones and kills those past kMaxRun.
  void collect();
  std::size_t running() const { return running_.size(); }

 private:
  struct Child {
    pid_t pid;
    std::string command;
    core::TimePoint started;
  };
  const core::Clock& clock_;
  std::vector<Child> running_;
};

}  // namespace failover::store
