#pragma once
// The process's descriptor limit (RLIMIT_NOFILE).
#include <cstdint>

namespace failover::core {

// Raises the soft limit to the hard one and returns the soft limit in
// effect afterwards (unchanged when raising failed). Most systems start
// processes at a soft 1024 with a far higher hard limit, and a server that
// holds one descriptor per client connection would otherwise hit EMFILE
// long before its own connection limits.
std::uint64_t raise_fd_limit();

}  // namespace failover::core
