#pragma once
// `failover up --config cluster.yaml`: starts the whole stack of a cluster
// file (stack.h), prints where everything listens, serves the stack's
// dashboard and /status on the cluster's dashboard address, restarts
// nothing by itself, and stops every component, in order, on SIGTERM or
// Ctrl-C.
#include <boost/asio/io_context.hpp>
#include <string>

#include "drill/stack.h"
#include "role/runner.h"

namespace failover::drill {

struct UpOptions {
  std::string config;  // the cluster file
  std::string binary;  // the failover binary the components run; "" for this one
};

// The exit status: 0 after a stop signal, 1 when a component did not start
// (what was started is stopped first). Throws core::ConfigError for a bad
// cluster file.
int run_up(const UpOptions& options);

// Serves the stack's /status, /metrics and dashboard on its dashboard
// address (up and the drill); false, logged, when it cannot listen.
bool serve_stack_dashboard(boost::asio::io_context& io, role::Runner& runner, Stack& stack);

// The binary this process runs (/proc/self/exe).
std::string this_binary();

}  // namespace failover::drill
