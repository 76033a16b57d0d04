#include "net/deadline.h"

namespace failover::net {

Deadline::Deadline(const boost::asio::any_io_executor& executor, std::function<void()> on_expire)
    : state_(std::make_shared<State>(executor)) {
  state_->on_expire = std::move(on_expire);
}

Deadline::~Deadline() {
  // The pending wait holds the state; it must not call into an owner that
  // is gone.
  state_->on_expire = nullptr;
  state_->timer.cancel();
}

void Deadline::expires_at(Clock::time_point t) {
  state_->deadline = t;
  state_->expired = false;
  // Later than the timer: it will find out when it fires. Earlier: re-arm.
  if (t < state_->armed) arm(state_, t);
}

void Deadline::arm(const std::shared_ptr<State>& state, Clock::time_point at) {
  state->armed = at;
  state->timer.expires_at(at);
  state->timer.async_wait([state, at](const boost::system::error_code& ec) {
    if (ec || state->armed != at || !state->on_expire) return;  // cancelled or re-armed since
    state->armed = Clock::time_point::max();
    if (state->deadline == Clock::time_point::max()) return;
    if (Clock::now() < state->deadline) {
      arm(state, state->deadline);
      return;
    }
    state->expired = true;
    state->on_expire();
  });
}

}  // namespace failover::net
