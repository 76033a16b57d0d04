#pragma once
// How the drill acts on a stack: one it runs itself (a Stack, in this
// process), or one a `failover up` runs, attached to through up's API on
// the cluster's dashboard address (`failover drill --attach`: stack_api.h
// for the components, proxy_admin.h for the links). Either way the drill
// sees the same: signals, restarts, link faults and the stack's events.
//
// On the io thread of the drill.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "drill/fault.h"
#include "drill/stack.h"

namespace failover::drill {

class StackControl {
 public:
  virtual ~StackControl() = default;

  // Starts the stack and waits until it serves; attached: checks that up
  // answers and every component runs.
  virtual boost::asio::awaitable<core::Result<void>> start() = 0;
  // SIGKILL, SIGSTOP or SIGCONT to a component.
  virtual boost::asio::awaitable<core::Result<void>> signal(const std::string& component, int sig) = 0;
  // Starts a component again after a kill; done once it is ready.
  virtual boost::asio::awaitable<core::Result<void>> restart(const std::string& component) = 0;
  // Sets the fault of the proxy in front of `component`.
  virtual boost::asio::awaitable<core::Result<void>> set_link(const std::string& component, const Fault& fault) = 0;
  // The stack's events, times counted from `since`.
  virtual boost::asio::awaitable<std::vector<StackEvent>> events_since(core::TimePoint since) = 0;
  // Stops the stack it started; attached: leaves it running, but lifts
  // the link faults and hangs this drill left.
  virtual boost::asio::awaitable<void> stop() = 0;
};

// `stack` outlives the control.
std::unique_ptr<StackControl> control_own_stack(Stack& stack);
std::unique_ptr<StackControl> control_attached_stack(boost::asio::any_io_executor executor, const ClusterConfig& config);

}  // namespace failover::drill
