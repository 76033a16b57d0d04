#pragma once
// The process around every role (lb, dns, registry, agent, and the store
// next): SIGPIPE ignored, listen errors reported one way (a message and
// exit status 1), SIGTERM/SIGINT running the role's drain step within a
// deadline before the process stops, SIGHUP for roles that reload, and the
// io_context(s) run until then.
//
// Everything here runs on the thread that calls run(), the role's control
// thread; the role's drain and reload steps run there too.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace failover::role {

// Exit status when a listener cannot be opened (a config error exits 2).
inline constexpr int kExitListenError = 1;

class Runner {
 public:
  // A drain step: what the role does on SIGTERM before it stops (finish
  // requests in flight, deregister). The runner stops when it returns or
  // at the deadline, whichever comes first.
  using Drain = std::function<boost::asio::awaitable<void>()>;

  // `role` names the process in logs ("lb"). Ignores SIGPIPE from here on:
  // a peer that closes while we write must cost one connection, not the
  // process.
  Runner(boost::asio::io_context& io, std::string role,
         const core::Clock& clock = core::SteadyClock::instance());
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Opens one listener: `open` throws (boost::system::system_error or any
  // std::exception) when it cannot. Logs "cannot listen on ADDRESS: why" and
  // returns false then; the role returns kExitListenError.
  [[nodiscard]] bool listen(std::string_view address, const std::function<void()>& open);

  // The first SIGTERM or SIGINT runs `drain` (null: nothing to drain) and
  // stops the process once it is done or `deadline()` has passed; the
  // deadline is read when the signal comes, so a reload may change it.
  // Without a call, a signal stops the process at once.
  void on_stop(Drain drain, std::function<std::chrono::milliseconds()> deadline);

  // SIGHUP runs `reload` (each time, until a stop signal). Without a call
  // SIGHUP is left alone.
  void on_reload(std::function<void()> reload);

  // A thread to run beside the io_context (an LB worker): run() starts it,
  // and once the io_context stops calls `stop` and joins it.
  void add_thread(std::function<void()> body, std::function<void()> stop);

  // Runs the io_context on this thread until a stop signal's drain is over
  // (or stop() is called), then stops and joins the threads. Returns the
  // exit status, 0.
  int run();

  // Stops the io_context now, from its own thread.
  void stop();

 private:
  void wait_stop_signal();
  void wait_reload_signal();

  boost::asio::io_context& io_;
  std::string role_;
  boost::asio::signal_set stop_signals_;
  boost::asio::signal_set reload_signals_;
  const core::Clock& clock_;  // the drain deadline
  Drain drain_;
  std::function<std::chrono::milliseconds()> deadline_;
  std::function<void()> reload_;
  bool stopping_ = false;
  struct Thread {
    std::function<void()> body, stop;
  };
  std::vector<Thread> threads_;
};

}  // namespace failover::role
