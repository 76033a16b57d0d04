#include "core/clock.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace failover::core {

namespace asio = boost::asio;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<bool> Clock::sleep_for(Duration d, std::stop_token stop) const {
  co_return co_await sleep_until(now() + d, std::move(stop));
}

asio::awaitable<void> expire_at(const Clock& clock, TimePoint at) {
  try {
    co_await clock.sleep_until(at);
  } catch (const boost::system::system_error&) {
    // Cancelled: the race this deadline is in has its answer already.
  }
}

asio::awaitable<bool> SteadyClock::sleep_until(TimePoint at, std::stop_token stop) const {
  asio::steady_timer timer(co_await asio::this_coro::executor, at);
  std::stop_callback on_stop(stop, [&timer] { timer.cancel(); });
  // A stop requested before the callback existed cancelled nothing.
  if (stop.stop_requested()) co_return false;
  co_await timer.async_wait(kTuple);
  co_return !stop.stop_requested();
}

struct ManualClock::Waker {
  asio::steady_timer* timer;
};

TimePoint ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

asio::awaitable<bool> ManualClock::sleep_until(TimePoint at, std::stop_token stop) const {
  if (stop.stop_requested()) co_return false;
  if (now() >= at) co_return true;
  // The timer never expires by itself: advance() cancels it when `at` comes.
  asio::steady_timer timer(co_await asio::this_coro::executor, SteadyClockType::time_point::max());
  Waker waker{&timer};
  // Leaves the list however the coroutine ends, even destroyed mid-sleep.
  struct Registration {
    const ManualClock& clock;
    std::multimap<TimePoint, Waker*>::iterator it;
    ~Registration() {
      std::lock_guard lock(clock.mutex_);
      clock.sleepers_.erase(it);
    }
  } registration{*this, [&] {
    std::lock_guard lock(mutex_);
    return sleepers_.emplace(at, &waker);
  }()};
  std::stop_callback on_stop(stop, [&timer] { timer.cancel(); });
  while (!stop.stop_requested() && now() < at) co_await timer.async_wait(kTuple);
  co_return !stop.stop_requested();
}

void ManualClock::advance(SteadyClockType::duration d) {
  std::lock_guard lock(mutex_);
  now_ += std::chrono::duration_cast<TimePoint::duration>(d);
  for (auto it = sleepers_.begin(); it != sleepers_.end() && it->first <= now_; ++it)
    it->second->timer->cancel();
}

TimePoint ManualClock::next_wake() const {
  std::lock_guard lock(mutex_);
  return sleepers_.empty() ? TimePoint::max() : sleepers_.begin()->first;
}

std::size_t ManualClock::sleepers() const {
  std::lock_guard lock(mutex_);
  return sleepers_.size();
}

}  // namespace failover::core
