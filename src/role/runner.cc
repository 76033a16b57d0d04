#include "role/runner.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <exception>
#include <spdlog/spdlog.h>

namespace failover::role {

namespace asio = boost::asio;

Runner::Runner(asio::io_context& io, std::string role, const core::Clock& clock)
    : io_(io), role_(std::move(role)), stop_signals_(io, SIGTERM, SIGINT), reload_signals_(io),
      clock_(clock) {
  std::signal(SIGPIPE, SIG_IGN);
}

bool Runner::listen(std::string_view address, const std::function<void()>& open) {
  try {
    open();
    return true;
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}: {}", address, e.what());
    return false;
  }
}

void Runner::on_stop(Drain drain, std::function<std::chrono::milliseconds()> deadline) {
  drain_ = std::move(drain);
  deadline_ = std::move(deadline);
}

void Runner::on_reload(std::function<void()> reload) {
  reload_ = std::move(reload);
  reload_signals_.add(SIGHUP);
}

void Runner::add_thread(std::function<void()> body, std::function<void()> stop) {
  threads_.push_back({std::move(body), std::move(stop)});
}

void Runner::stop() {
  stopping_ = true;
  io_.stop();
}

void Runner::wait_stop_signal() {
  // Not re-armed: a second signal during the drain changes nothing, the
  // deadline already bounds it.
  stop_signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    stopping_ = true;
    if (!drain_) {
      spdlog::info("signal {}: stopping", sig);
      return stop();
    }
    const std::chrono::milliseconds deadline = deadline_ ? deadline_() : std::chrono::milliseconds(0);
    spdlog::info("signal {}: draining (at most {} ms)", sig, deadline.count());
    asio::co_spawn(io_, [this, deadline]() -> asio::awaitable<void> {
      co_await clock_.sleep_for(deadline);
      spdlog::warn("{}: drain not done after {} ms; stopping", role_, deadline.count());
      stop();
    }, asio::detached);
    asio::co_spawn(io_, drain_(), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("{}: drain failed: {}", role_, ex.what());
        }
      }
      stop();
    });
  });
}

void Runner::wait_reload_signal() {
  reload_signals_.async_wait([this](boost::system::error_code ec, int) {
    if (ec || stopping_) return;
    reload_();
    wait_reload_signal();
  });
}

int Runner::run() {
  wait_stop_signal();
  if (reload_) wait_reload_signal();
  std::vector<std::thread> threads;
  threads.reserve(threads_.size());
  for (const Thread& t : threads_) threads.emplace_back(t.body);
  io_.run();
  for (const Thread& t : threads_) t.stop();
  for (std::thread& t : threads) t.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace failover::role
