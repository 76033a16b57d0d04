#pragma once
// The child processes of `failover up` and `failover drill`: each
// component of the plan runs as the failover binary with its own arguments,
// its output appended to its log file. Children get SIGTERM when the
// launcher's process dies (even by SIGKILL), so a crashed `up` leaves
// nothing behind, and they sit in their own process group, so a Ctrl-C
// reaches only `up`, which then stops them in order.
//
// Not thread-safe: one thread (the io thread of up or the drill) calls
// everything, reap() included.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "drill/cluster_plan.h"

namespace failover::drill {

struct ChildState {
  pid_t pid = 0;          // 0: never started, or reaped
  bool running = false;
  bool stopped = false;   // SIGSTOPped by us (a hang), until SIGCONT
  int starts = 0;
  std::optional<int> last_exit;  // wait status of the last exit: exit code, or 128 + signal
};

class Launcher {
 public:
  // `binary`: the failover executable the children run (normally this one).
  Launcher(std::string binary, std::vector<ComponentPlan> plan);
  ~Launcher();  // SIGKILLs what still runs: stop_all() is the orderly way
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  const std::vector<ComponentPlan>& plan() const { return plan_; }
  const ComponentPlan* find(const std::string& name) const;
  const ChildState& state(const std::string& name) const;

  // Creates the cluster's directories and writes every generated config.
  core::Result<void> write_configs() const;

  // Starts (or starts again, after it exited) the named component.
  core::Result<pid_t> start(const std::string& name);

  // Sends `sig` to the named component if it runs (SIGSTOP and SIGCONT keep
  // track of the hang). False when it does not run.
  bool signal(const std::string& name, int sig);

  // Collects the children that exited (waitpid without blocking); call on
  // SIGCHLD. Returns the names of those that did.
  std::vector<std::string> reap();

  // The last `max_bytes` of the component's log, for an error message.
  std::string log_tail(const std::string& name, std::size_t max_bytes = 2000) const;

 private:
  std::size_t index(const std::string& name) const;

  std::string binary_;
  std::vector<ComponentPlan> plan_;
  std::vector<ChildState> states_;
};

}  // namespace failover::drill
