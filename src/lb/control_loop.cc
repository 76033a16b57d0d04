#include "lb/control_loop.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include "health/runner.h"

namespace failover::lb {

namespace asio = boost::asio;

namespace {

void log(const Event& e) {
  switch (e.kind) {
    case Event::Kind::kDown:
      spdlog::warn("upstream {} server {} is DOWN: {}", e.upstream, e.server, e.detail);
      break;
    case Event::Kind::kUp:
      spdlog::info("upstream {} server {} is UP: {}", e.upstream, e.server, e.detail);
      break;
    case Event::Kind::kEjected:
      spdlog::warn("upstream {} server {} ejected {}", e.upstream, e.server, e.detail);
      break;
    case Event::Kind::kRemoved: spdlog::info("upstream {} server {} removed", e.upstream, e.server); break;
    case Event::Kind::kPanic:
      spdlog::error("upstream {}: every server is down; PANIC mode, sending to all of them", e.upstream);
      break;
    case Event::Kind::kPanicOver: spdlog::info("upstream {}: left panic mode", e.upstream); break;
    case Event::Kind::kNoServer:
      spdlog::error("upstream {}: no server available, requests get 503", e.upstream);
      break;
    case Event::Kind::kAdmin:
      spdlog::info("upstream {} server {} admin state set to {}", e.upstream, e.server, e.detail);
      break;
    case Event::Kind::kTooManyServers: spdlog::warn("upstream {}: {}", e.upstream, e.detail); break;
  }
}

}  // namespace

ControlLoop::ControlLoop(asio::io_context& io, const core::Clock& clock, Publish publish)
    : io_(io), clock_(clock), publish_(std::move(publish)), control_(clock.now()) {}

ControlLoop::~ControlLoop() {
  for (auto& [server, stop] : checks_) stop.request_stop();
  wake_stop_.request_stop();
}

void ControlLoop::apply(const LbConfig& config) { carry_out(control_.apply(config, clock_.now())); }

void ControlLoop::set_discovered(const std::string& upstream, std::vector<ServerConfig> servers) {
  carry_out(control_.set_discovered(upstream, std::move(servers), clock_.now()));
}

void ControlLoop::set_discovery_state(const std::string& upstream, Control::DiscoveryState state) {
  control_.set_discovery_state(upstream, std::move(state));
}

void ControlLoop::on_failure(const std::shared_ptr<ServerHealth>& server, std::string cause) {
  // The worker's shared_ptr keeps a server that a reload removed alive;
  // Control ignores it.
  carry_out(control_.on_failure(*server, std::move(cause), clock_.now()));
}

bool ControlLoop::set_admin(std::string_view upstream, std::string_view address, AdminState state) {
  auto effects = control_.set_admin(upstream, address, state, clock_.now());
  if (!effects) return false;
  carry_out(std::move(*effects));
  return true;
}

void ControlLoop::carry_out(Effects effects) {
  for (const auto& server : effects.stop_checks) {
    auto it = checks_.find(server.get());
    if (it == checks_.end()) continue;
    it->second.request_stop();
    checks_.erase(it);
  }
  for (const auto& server : effects.start_checks) start_checks(server);
  for (const Event& e : effects.events) log(e);
  if (effects.publish) publish_(control_.snapshot());
  if (effects.wake != core::TimePoint::max()) wake_at(effects.wake);
}

void ControlLoop::start_checks(const std::shared_ptr<ServerHealth>& server) {
  std::stop_source& stop = checks_[server.get()];
  stop.request_stop();  // a loop with the old check, if any
  stop = std::stop_source();
  const health::CheckConfig check = server->check();
  asio::co_spawn(io_,
                 health::run_checks(
                     clock_, check, health::probe_endpoint(server->endpoint(), check),
                     [this, server](const health::ProbeResult& r) -> const health::Target& {
                       carry_out(control_.on_check(*server, r, clock_.now()));
                       return server->health();
                     },
                     stop.get_token(), health::random_phase()),
                 asio::detached);
}

void ControlLoop::wake_at(core::TimePoint at) {
  if (at >= wake_) return;  // an earlier wake-up is already set
  wake_stop_.request_stop();
  wake_stop_ = std::stop_source();
  wake_ = at;
  asio::co_spawn(io_, [this, at, stop = wake_stop_.get_token()]() -> asio::awaitable<void> {
    const bool due = co_await clock_.sleep_until(at, stop);  // one statement per co_await (GCC 12)
    if (!due) co_return;
    wake_ = core::TimePoint::max();
    carry_out(control_.tick(clock_.now()));
  }, asio::detached);
}

}  // namespace failover::lb
