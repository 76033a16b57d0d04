#include <spdlog/spdlog.h>

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
    : upstream(std::move(upstream_name)),
      config(std::move(server_config)),
      endpoint(ep),
      check(up.check),
      slow_start(up.slow_start),
      // A new server starts up: a new LB should not refuse traffic while its
      // first probes run; retries and passive ejection cover a dead one.
      rise_fall(up.check.rise, up.check.fall, true),
      ejector(passive_for(config, up)),
      admin(config.down ? AdminState::kDown : AdminState::kNone),
      up_since(now - up.slow_start),  // no slow start at process start
      state_since(now) {}

void ServerHealth::reconfigure(const ServerConfig& c, const UpstreamConfig& up) {
  if (c.down != config.down) admin = c.down ? AdminState::kDown : AdminState::kNone;
  config = c;
  check = up.check;
  slow_start = up.slow_start;
  rise_fall.set_thresholds(up.check.rise, up.check.fall);
  if (!check.enabled) rise_fall.force(true);
  ejector.set_config(passive_for(c, up));
}

bool ServerHealth::available(core::TimePoint now) const {
  return admin == AdminState::kNone && rise_fall.up() && !ejector.ejected(now);
}

bool ServerHealth::in_slow_start(core::TimePoint now) const {
  return slow_start.count() > 0 && rise_fall.up() && now - up_since < slow_start;
}

int ServerHealth::effective_weight(core::TimePoint now) const {
  const double factor = health::slow_start_factor(up_since, slow_start, now);
  return std::max(1, static_cast<int>(config.weight * 100 * factor));
}

std::string ServerHealth::state_name(core::TimePoint now) const {
  if (admin == AdminState::kDrain) return "drain";
  return available(now) ? "up" : "down";
}

std::string ServerHealth::reason(core::TimePoint now) const {
  if (admin == AdminState::kDown) return config.down ? "marked down in config" : "set down by admin";
  if (admin == AdminState::kDrain) return "draining by admin: no new requests";
  const std::string last_cause =
      checks.empty() ? "none" : health::cause_name(checks.back().result.cause);
  if (!rise_fall.up()) {
    return "active check failed " + std::to_string(rise_fall.fall()) +
           " times in a row (last: " + last_cause + "); up again after " +
           std::to_string(rise_fall.rise()) + " passing checks (" +
           std::to_string(rise_fall.consecutive_successes()) + " so far)";
  }
  if (ejector.ejected(now)) {
    const std::string cause = failures.empty() ? "failure" : failures.back().cause;
    return "ejected by passive detection after " + std::to_string(ejector.config().max_fails) +
           " failed requests within " + std::to_string(ejector.config().fail_timeout.count()) +
           "ms (last: " + cause + "); back in " +
           std::to_string(core::millis_between(now, ejector.ejected_until())) + "ms";
  }
  if (in_slow_start(now)) return "slow start after coming back up";
  if (!check.enabled) return "no active check; passive detection only";
  return "active check passing";
}

void ServerHealth::record_check(core::TimePoint now, const health::ProbeResult& r) {
  checks.push_back({now, r});
  if (checks.size() > kHistory) checks.pop_front();
}

void ServerHealth::record_failure(core::TimePoint now, std::string cause) {
  failures.push_back({now, std::move(cause)});
  if (failures.size() > kHistory) failures.pop_front();
}

}  // namespace failover::lb
