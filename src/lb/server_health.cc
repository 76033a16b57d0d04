#include "health/slow_start.h"
#include "lb/control.h"

namespace failover::lb {

const char* admin_state_name(AdminState s) {
  switch (s) {
    case AdminState::kNone: return "none";
    case AdminState::kDown: return "down";
    case AdminState::kDrain: return "drain";
  }
  return "none";
}

namespace {

health::PassiveConfig passive_for(const ServerConfig& s, const UpstreamConfig& up) {
  health::PassiveConfig p = up.passive;
  if (s.max_fails >= 0) p.max_fails = s.max_fails;
  if (s.fail_timeout.count() >= 0) p.fail_timeout = s.fail_timeout;
  return p;
}

}  // namespace

ServerHealth::ServerHealth(std::string upstream_name, ServerConfig server_config,
                           boost::asio::ip::tcp::endpoint ep, const UpstreamConfig& up,
                           core::TimePoint now)
    : upstream_(std::move(upstream_name)),
      config_(std::move(server_config)),
      endpoint_(ep),
      check_(up.check),
      slow_start_(up.slow_start),
      // Up at once unless the check says `initial: down` (nginx's
      // default_down): a new LB should not refuse traffic while its first
      // probes run; retries and passive ejection cover a dead server.
      health_(up.check, now),
      ejector_(passive_for(config_, up)),
      admin_(config_.down ? AdminState::kDown : AdminState::kNone),
      up_since_(now - up.slow_start) {}  // no slow start at process start

void ServerHealth::reconfigure(const ServerConfig& c, const UpstreamConfig& up, core::TimePoint now) {
  if (c.down != config_.down) admin_ = c.down ? AdminState::kDown : AdminState::kNone;
  config_ = c;
  check_ = up.check;
  slow_start_ = up.slow_start;
  health_.reconfigure(up.check, now);
  ejector_.set_config(passive_for(c, up));
}

bool ServerHealth::available(core::TimePoint now) const {
  return admin_ == AdminState::kNone && health_.up() && !ejector_.ejected(now);
}

bool ServerHealth::in_slow_start(core::TimePoint now) const {
  return slow_start_.count() > 0 && health_.up() && now - up_since_ < slow_start_;
}

int ServerHealth::effective_weight(core::TimePoint now) const {
  const double factor = health::slow_start_factor(up_since_, slow_start_, now);
  return std::max(1, static_cast<int>(config_.weight * 100 * factor));
}

std::string ServerHealth::state_name(core::TimePoint now) const {
  if (admin_ == AdminState::kDrain) return "drain";
  return available(now) ? "up" : "down";
}

core::TimePoint ServerHealth::state_since() const { return health_.since(); }

std::string ServerHealth::reason(core::TimePoint now) const {
  if (admin_ == AdminState::kDown) return config_.down ? "marked down in config" : "set down by admin";
  if (admin_ == AdminState::kDrain) return "draining by admin: no new requests";
  if (!health_.up()) return health_.reason();
  if (ejector_.ejected(now)) {
    const std::string cause = failures_.empty() ? "failure" : failures_.back().cause;
    return "ejected by passive detection after " + std::to_string(ejector_.config().max_fails) +
           " failed requests within " + std::to_string(ejector_.config().fail_timeout.count()) +
           "ms (last: " + cause + "); back in " +
           std::to_string(core::millis_between(now, ejector_.ejected_until())) + "ms";
  }
  if (in_slow_start(now)) return "slow start after coming back up";
  if (!check_.enabled) return "no active check; passive detection only";
  return health_.reason();
}

void ServerHealth::record_failure(core::TimePoint now, std::string cause) {
  failures_.push_back({now, std::move(cause)});
  if (failures_.size() > kHistory) failures_.pop_front();
}

}  // namespace failover::lb
