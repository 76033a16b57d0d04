#pragma once
// One deadline for a connection, cheap to move. Beast's tcp_stream arms a
// timer for every read and write; a proxy moving the deadline forward on
// every request would spend more time on timers than on HTTP. Here moving
// the deadline later is a store: the single timer, when it fires early,
// just sleeps again until the current deadline.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace failover::net {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `on_expire` runs on the executor when the deadline passes; it should
  // cancel the operations it guards (they then end with operation_aborted).
  Deadline(const boost::asio::any_io_executor& executor, std::function<void()> on_expire);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void expires_at(Clock::time_point t);
  void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
  void disarm() { expires_at(Clock::time_point::max()); }

  // The last deadline passed and on_expire ran; cleared by expires_at().
  bool expired() const { return state_->expired; }

 private:
  struct State {
    explicit State(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed = Clock::time_point::max();  // when the timer fires; max: not waiting
    bool expired = false;
    std::function<void()> on_expire;
  };
  static void arm(const std::shared_ptr<State>& state, Clock::time_point at);

  std::shared_ptr<State> state_;
};

}  // namespace failover::net
