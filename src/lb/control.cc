#include "lb/control.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <spdlog/spdlog.h>

#include "net/endpoint.h"

namespace failover::lb {

namespace asio = boost::asio;

Control::Control(asio::io_context& io, const core::Clock& clock, Publish publish)
    : io_(io), clock_(clock), publish_(std::move(publish)), started_(clock.now()) {}

void Control::apply(const LbConfig& config) {
  const core::TimePoint now = clock_.now();
  // Index what we have, so servers that stay keep their health.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ServerHealth>> old;
  for (auto& up : upstreams_)
    for (auto& s : up.servers) old[{up.config.name, s->config.address}] = s;

  std::vector<Upstream> next;
  for (const UpstreamConfig& uc : config.upstreams) {
    Upstream up{with_discovered(uc), {}, false};
    for (const ServerConfig& sc : up.config.servers) {
      auto it = old.find({uc.name, sc.address});
      if (it != old.end()) {
        auto server = it->second;
        old.erase(it);
        const bool check_changed = server->check.enabled != uc.check.enabled ||
                                   server->check.interval != uc.check.interval ||
                                   server->check.timeout != uc.check.timeout ||
                                   server->check.type != uc.check.type ||
                                   server->check.uri != uc.check.uri ||
                                   server->check.raw_request != uc.check.raw_request;
        server->reconfigure(sc, uc);
        if (check_changed) start_probe(server);
        up.servers.push_back(std::move(server));
        continue;
      }
      auto endpoint = net::resolve_endpoint(sc.address);  // validated at load
      auto server = std::make_shared<ServerHealth>(uc.name, sc, endpoint.value_or(
          asio::ip::tcp::endpoint()), uc, now);
      start_probe(server);
      up.servers.push_back(std::move(server));
    }
    next.push_back(std::move(up));
  }
  for (auto& [key, server] : old) {
    server->removed = true;
    ++server->probe_epoch;
    spdlog::info("upstream {} server {} removed", key.first, key.second);
  }
  upstreams_ = std::move(next);
  config_ = config;
  publish();
}

UpstreamConfig Control::with_discovered(const UpstreamConfig& uc) const {
  UpstreamConfig merged = uc;
  auto it = discovered_.find(uc.name);
  if (!uc.discovery || it == discovered_.end()) return merged;
  for (const ServerConfig& s : it->second) {
    if (merged.servers.size() == kMaxServers) {
      spdlog::warn("upstream {}: the registry lists more than {} servers; the rest are left out",
                   uc.name, kMaxServers);
      break;
    }
    const bool fixed = std::any_of(uc.servers.begin(), uc.servers.end(),
                                   [&](const ServerConfig& f) { return f.address == s.address; });
    if (!fixed) merged.servers.push_back(s);
  }
  return merged;
}

void Control::set_discovered(const std::string& upstream, std::vector<ServerConfig> servers) {
  discovered_[upstream] = std::move(servers);
  apply(config_);
}

void Control::set_discovery_state(const std::string& upstream, DiscoveryState state) {
  discovery_state_[upstream] = std::move(state);
}

void Control::start_probe(const std::shared_ptr<ServerHealth>& server) {
  const std::uint64_t epoch = ++server->probe_epoch;
  if (!server->check.enabled) {
    server->rise_fall.force(true);
    return;
  }
  asio::co_spawn(io_, [this, server, epoch]() -> asio::awaitable<void> {
    asio::steady_timer timer(io_);
    // A random phase, so that many load balancers (or servers) restarted
    // together do not probe in lock-step; after that, a fixed period keeps
    // the detection bound fall x interval + timeout.
    thread_local std::minstd_rand rng{std::random_device{}()};
    const auto interval = server->check.interval;
    timer.expires_after(std::chrono::milliseconds(
        std::uniform_int_distribution<long long>(0, interval.count() / 2)(rng)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto next = std::chrono::steady_clock::now();
    while (!server->removed && server->probe_epoch == epoch) {
      next += server->check.interval;
      const health::ProbeResult r = co_await health::probe(server->endpoint, server->check);
      if (server->removed || server->probe_epoch != epoch) break;
      on_check(*server, r);
      // A probe that ran long must not make the next one late too.
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;
      timer.expires_at(next);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }, asio::detached);
}

void Control::on_check(ServerHealth& server, const health::ProbeResult& r) {
  const core::TimePoint now = clock_.now();
  server.record_check(now, r);
  const health::Change change = server.rise_fall.observe(r.ok);
  if (change == health::Change::kDown) {
    server.state_since = now;
    spdlog::warn("upstream {} server {} is DOWN: {} failed checks in a row, last: {}{}",
                 server.upstream, server.config.address, server.rise_fall.fall(),
                 health::cause_name(r.cause), r.detail.empty() ? "" : " (" + r.detail + ")");
    publish();
  } else if (change == health::Change::kUp) {
    server.state_since = now;
    server.up_since = now;
    server.ejector.end_ejection(now);
    spdlog::info("upstream {} server {} is UP: {} passing checks in a row", server.upstream,
                 server.config.address, server.rise_fall.rise());
    publish();
  }
}

void Control::on_failure(const std::shared_ptr<ServerHealth>& server, std::string cause) {
  if (server->removed) return;
  const core::TimePoint now = clock_.now();
  server->record_failure(now, std::move(cause));
  if (server->ejector.on_failure(now)) {
    spdlog::warn("upstream {} server {} ejected for {}ms: {} failed requests (last: {})",
                 server->upstream, server->config.address,
                 core::millis_between(now, server->ejector.ejected_until()),
                 server->ejector.config().max_fails, server->failures.back().cause);
    publish();
  }
}

const std::vector<std::shared_ptr<ServerHealth>>* Control::servers(std::string_view upstream) const {
  for (const auto& up : upstreams_)
    if (up.config.name == upstream) return &up.servers;
  return nullptr;
}

bool Control::set_admin(std::string_view upstream, std::string_view address, AdminState state) {
  for (auto& up : upstreams_) {
    if (up.config.name != upstream) continue;
    for (auto& s : up.servers) {
      if (s->config.address != address) continue;
      s->admin = state;
      spdlog::info("upstream {} server {} admin state set to {}", upstream, address,
                   admin_state_name(state));
      publish();
      return true;
    }
  }
  return false;
}

void Control::publish() {
  const core::TimePoint now = clock_.now();
  auto snap = std::make_shared<Snapshot>();
  snap->routes = config_.routes;
  snap->limits = config_.limits;
  core::TimePoint wake = core::TimePoint::max();
  for (Upstream& up : upstreams_) {
    UpstreamView view;
    view.name = up.config.name;
    view.balance = up.config.balance;
    view.retry = up.config.retry;
    view.max_connections_per_server = config_.limits.upstream_connections;
    std::vector<std::uint32_t> primaries, backups, panic;
    for (std::uint32_t id = 0; id < up.servers.size(); ++id) {
      const ServerHealth& s = *up.servers[id];
      view.servers.push_back({id, s.config.address, s.endpoint, s.effective_weight(now),
                              s.config.backup, s.stats, up.servers[id]});
      if (s.available(now)) (s.config.backup ? backups : primaries).push_back(id);
      if (s.admin == AdminState::kNone) panic.push_back(id);
      // Wake up again when an ejection ends or slow start moves on.
      if (s.ejector.ejected(now)) wake = std::min(wake, s.ejector.ejected_until());
      if (s.in_slow_start(now))
        wake = std::min(wake, now + std::max(std::chrono::milliseconds(100), s.slow_start / 20));
    }
    bool panic_now = false;
    if (!primaries.empty()) { view.serving = std::move(primaries); view.fallback = std::move(backups); }
    else if (!backups.empty()) view.serving = std::move(backups);
    else if (up.config.panic && !panic.empty()) { view.serving = std::move(panic); panic_now = true; }
    if (panic_now != up.panic) {
      if (panic_now) spdlog::error("upstream {}: every server is down; PANIC mode, sending to all of them", up.config.name);
      else spdlog::info("upstream {}: left panic mode", up.config.name);
      up.panic = panic_now;
    }
    if (view.serving.empty())
      spdlog::error("upstream {}: no server available, requests get 503", up.config.name);
    view.panic = panic_now;
    snap->upstreams.push_back(std::move(view));
  }
  publish_(std::move(snap));
  if (wake != core::TimePoint::max()) schedule_republish(wake);
}

void Control::schedule_republish(core::TimePoint at) {
  if (at >= next_republish_) return;  // an earlier wake-up is already set
  next_republish_ = at;
  auto timer = std::make_shared<asio::steady_timer>(io_);
  // The clock is the steady clock in production; convert by offset so a
  // manual clock in tests still schedules sensibly.
  timer->expires_after(at - clock_.now());
  timer->async_wait([this, timer, at](boost::system::error_code ec) {
    if (ec) return;
    if (next_republish_ == at) next_republish_ = core::TimePoint::max();
    publish();
  });
}

}  // namespace failover::lb
