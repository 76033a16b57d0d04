#include "store/notify.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <spdlog/spdlog.h>

extern char** environ;

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
  const std::string script = command + " \"$@\"";
  std::vector<std::string> words{"/bin/sh", "-c", script, "failover-notify"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // Asio opens sockets without O_CLOEXEC: a script that outlived the node
  // would otherwise hold its replication connections open.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // Signals as a fresh process has them (the node ignores SIGPIPE), and a
  // process group of its own, so that a kill reaches what the script started.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  const int error = ::posix_spawn(&pid, "/bin/sh", &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    spdlog::warn("store: notify: cannot start '{}': {}", command, std::strerror(error));
    return false;
  }
  running_.push_back({pid, command, clock_.now()});
  return true;
}

void NotifyRunner::collect() {
  const core::TimePoint now = clock_.now();
  std::erase_if(running_, [&](const Child& c) {
    int status = 0;
    const pid_t done = ::waitpid(c.pid, &status, WNOHANG);
    if (done == 0) {
      if (now - c.started < kMaxRun) return false;
      spdlog::warn("store: notify: '{}' still runs after {} s: killed", c.command, kMaxRun.count());
      ::kill(-c.pid, SIGKILL);
      ::waitpid(c.pid, &status, 0);
      return true;
    }
    if (done == c.pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
      spdlog::warn("store: notify: '{}' exited with status {}", c.command, WEXITSTATUS(status));
    else if (done == c.pid && WIFSIGNALED(status))
      spdlog::warn("store: notify: '{}' was killed by signal {}", c.command, WTERMSIG(status));
    return true;
  });
}

}  // namespace failover::store
