#include "store/notify.h"

#include <signal.h>
#include <sys/wait.h>

#include <spdlog/spdlog.h>

#include "store/child_process.h"

namespace failover::store {

NotifyRunner::~NotifyRunner() {
  for (const Child& c : running_) {
    ::kill(-c.pid, SIGKILL);  // its process group: the script and what it started
    ::waitpid(c.pid, nullptr, 0);
  }
}

bool NotifyRunner::start(const std::string& command, const std::vector<std::string>& args) {
  collect();
  // sh -c 'CMD "$@"' notify ARG...: the arguments reach CMD as they are,
  // whatever they hold.
  std::vector<std::string> words{"/bin/sh", "-c", command + " \"$@\"", "failover-notify"};
  words.insert(words.end(), args.begin(), args.end());
  core::Result<pid_t> pid = spawn_child(std::move(words));
  if (!pid) {
    spdlog::warn("store: notify: '{}': {}", command, pid.error().to_string());
    return false;
  }
  running_.push_back({*pid, command, clock_.now()});
  return true;
}

void NotifyRunner::collect() {
  const core::TimePoint now = clock_.now();
  std::erase_if(running_, [&](const Child& c) {
    const std::optional<int> status = reap_if_done(c.pid);
    if (!status) {
      if (now - c.started < kMaxRun) return false;
      spdlog::warn("store: notify: '{}' still runs after {} s: killed", c.command, kMaxRun.count());
      ::kill(-c.pid, SIGKILL);
      ::waitpid(c.pid, nullptr, 0);
      return true;
    }
    if (const std::string how = describe_exit(*status); !how.empty())
      spdlog::warn("store: notify: '{}' {}", c.command, how);
    return true;
  });
}

}  // namespace failover::store
