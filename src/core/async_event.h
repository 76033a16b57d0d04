#pragma once
// Two ways for coroutines on one io_context thread to wait for each other,
// with no clock: the timer under each is armed at time_point::max(), so it
// never fires by itself and cancel() is the only wake-up. Not thread-safe:
// wait() and the notifier run on the executor's one thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <boost/asio/use_awaitable.hpp>

namespace failover::core {

// notify_all() wakes every coroutine waiting at that moment and re-arms, as a
// condition variable's notify_all: a notify with nobody waiting is lost, so a
// waiter checks its condition in a loop, `while (!ready) co_await c.wait();`.
// Used many times over (a mirror that moved, a queue that filled).
class AsyncCondition {
 public:
  explicit AsyncCondition(boost::asio::any_io_executor ex)
      : timer_(ex, boost::asio::steady_timer::time_point::max()) {}
  boost::asio::awaitable<void> wait() {
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  void notify_all() {
    timer_.cancel();
    timer_.expires_at(boost::asio::steady_timer::time_point::max());
  }

 private:
  boost::asio::steady_timer timer_;
};

// Set once, then stays set: wait() returns at once after set(), so unlike
// AsyncCondition nobody can miss it (the reply to a request, a batch done).
class OneShotEvent {
 public:
  explicit OneShotEvent(boost::asio::any_io_executor ex) : waiters_(ex) {}
  bool is_set() const { return set_; }
  void set() {
    set_ = true;
    waiters_.notify_all();
  }
  boost::asio::awaitable<void> wait() {
    while (!set_) co_await waiters_.wait();
  }

 private:
  bool set_ = false;
  AsyncCondition waiters_;
};

// Runs `work` on `pool` (a thread_pool) and resumes the awaiting coroutine
// on `home`, its own executor, once it is done: heavy work off an io thread,
// in order with the caller, which waits without blocking that thread. `work`
// hands its result back through what it captured by reference (the caller's
// frame is suspended meanwhile) and must touch nothing the io thread
// changes. (Nothing is returned through co_await: GCC 12 mishandled a
// non-trivial result there; valgrind saw an invalid free.)
inline boost::asio::awaitable<void> run_on(boost::asio::thread_pool& pool, boost::asio::any_io_executor home,
                                          std::function<void()> work) {
  auto done = std::make_shared<OneShotEvent>(home);
  boost::asio::post(pool, [done, home, work = std::move(work)] {
    work();
    boost::asio::post(home, [done] { done->set(); });
  });
  co_await done->wait();
}

}  // namespace failover::core
