#pragma once
// A child process started and left to run, as notify scripts and the VIP's
// `ip` commands are: it gets none of the node's sockets or files (Asio opens
// them without O_CLOEXEC), signals as a fresh process has them, and a
// process group of its own, so that a kill reaches what it started.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace failover::store {

// argv[0] is looked up in PATH.
core::Result<pid_t> spawn_child(std::vector<std::string> argv);

// The exit of a child that has finished, without waiting: nullopt while it
// runs; else its wait status (waitpid's).
std::optional<int> reap_if_done(pid_t pid);

// "exited with status 2", "was killed by signal 9", or "" for a clean exit.
std::string describe_exit(int wait_status);

}  // namespace failover::store
