#include "lb/control.h"

#include <algorithm>

#include "net/endpoint.h"

namespace failover::lb {

namespace {

bool same_probe(const health::CheckConfig& a, const health::CheckConfig& b) {
  return a.enabled == b.enabled && a.interval == b.interval && a.timeout == b.timeout &&
         a.type == b.type && a.uri == b.uri && a.raw_request == b.raw_request &&
         a.port == b.port && a.fast_interval == b.fast_interval &&
         a.down_interval == b.down_interval && a.host == b.host && a.expect == b.expect;
}

}  // namespace

Effects Control::apply(const LbConfig& config, core::TimePoint now) {
  Effects effects;
  // Index what we have, so servers that stay keep their health.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<ServerHealth>> old;
  for (auto& up : upstreams_)
    for (auto& s : up.servers) old[{up.config.name, s->config_.address}] = s;

  std::vector<Upstream> next;
  for (const UpstreamConfig& uc : config.upstreams) {
    Upstream up{with_discovered(uc, effects), {}, false};
    for (const Upstream& before : upstreams_)
      if (before.config.name == uc.name) up.panic = before.panic;
    for (const ServerConfig& sc : up.config.servers) {
      auto it = old.find({uc.name, sc.address});
      if (it != old.end()) {
        auto server = it->second;
        old.erase(it);
        const bool probe_changed = !same_probe(server->check_, uc.check);
        server->reconfigure(sc, uc, now);
        if (probe_changed) {
          effects.stop_checks.push_back(server);
          if (uc.check.enabled) effects.start_checks.push_back(server);
        }
        up.servers.push_back(std::move(server));
        continue;
      }
      auto endpoint = net::resolve_endpoint(sc.address);  // validated at load
      auto server = std::make_shared<ServerHealth>(uc.name, sc, endpoint.value_or(
          boost::asio::ip::tcp::endpoint()), uc, now);
      if (uc.check.enabled) effects.start_checks.push_back(server);
      up.servers.push_back(std::move(server));
    }
    next.push_back(std::move(up));
  }
  for (auto& [key, server] : old) {
    server->removed_ = true;
    effects.stop_checks.push_back(server);
    effects.events.push_back({Event::Kind::kRemoved, key.first, key.second, ""});
  }
  upstreams_ = std::move(next);
  config_ = config;
  publish(now, effects);
  return effects;
}

UpstreamConfig Control::with_discovered(const UpstreamConfig& uc, Effects& effects) const {
  UpstreamConfig merged = uc;
  auto it = discovered_.find(uc.name);
  if (!uc.discovery || it == discovered_.end()) return merged;
  for (const ServerConfig& s : it->second) {
    if (merged.servers.size() == kMaxServers) {
      effects.events.push_back({Event::Kind::kTooManyServers, uc.name, "",
                                "the registry lists more than " + std::to_string(kMaxServers) +
                                    " servers; the rest are left out"});
      break;
    }
    const bool fixed = std::any_of(uc.servers.begin(), uc.servers.end(),
                                   [&](const ServerConfig& f) { return f.address == s.address; });
    if (!fixed) merged.servers.push_back(s);
  }
  return merged;
}

Effects Control::set_discovered(const std::string& upstream, std::vector<ServerConfig> servers,
                                core::TimePoint now) {
  discovered_[upstream] = std::move(servers);
  return apply(config_, now);
}

void Control::set_discovery_state(const std::string& upstream, DiscoveryState state) {
  discovery_state_[upstream] = std::move(state);
}

Effects Control::on_check(ServerHealth& server, const health::ProbeResult& r, core::TimePoint now) {
  Effects effects;
  if (server.removed_) return effects;
  const health::Change change = server.health_.observe(r, now);
  if (change == health::Change::kDown) {
    effects.events.push_back({Event::Kind::kDown, server.upstream_, server.config_.address,
                              std::to_string(server.health_.fall()) + " failed checks in a row, last: " +
                                  health::cause_name(r.cause) + (r.detail.empty() ? "" : " (" + r.detail + ")")});
    publish(now, effects);
  } else if (change == health::Change::kUp) {
    server.up_since_ = now;
    server.ejector_.end_ejection(now);
    effects.events.push_back({Event::Kind::kUp, server.upstream_, server.config_.address,
                              std::to_string(server.health_.rise()) + " passing checks in a row"});
    publish(now, effects);
  }
  return effects;
}

Effects Control::on_failure(ServerHealth& server, std::string cause, core::TimePoint now) {
  Effects effects;
  if (server.removed_) return effects;
  server.record_failure(now, std::move(cause));
  if (server.ejector_.on_failure(now)) {
    effects.events.push_back(
        {Event::Kind::kEjected, server.upstream_, server.config_.address,
         "for " + std::to_string(core::millis_between(now, server.ejector_.ejected_until())) + "ms: " +
             std::to_string(server.ejector_.config().max_fails) + " failed requests (last: " +
             server.failures_.back().cause + ")"});
    publish(now, effects);
  }
  return effects;
}

std::optional<Effects> Control::set_admin(std::string_view upstream, std::string_view address,
                                          AdminState state, core::TimePoint now) {
  for (auto& up : upstreams_) {
    if (up.config.name != upstream) continue;
    for (auto& s : up.servers) {
      if (s->config_.address != address) continue;
      s->admin_ = state;
      Effects effects;
      effects.events.push_back({Event::Kind::kAdmin, std::string(upstream), std::string(address),
                                admin_state_name(state)});
      publish(now, effects);
      return effects;
    }
  }
  return std::nullopt;
}

Effects Control::tick(core::TimePoint now) {
  Effects effects;
  publish(now, effects);
  return effects;
}

const std::vector<std::shared_ptr<ServerHealth>>* Control::servers(std::string_view upstream) const {
  for (const auto& up : upstreams_)
    if (up.config.name == upstream) return &up.servers;
  return nullptr;
}

void Control::publish(core::TimePoint now, Effects& effects) {
  auto snap = std::make_shared<Snapshot>();
  snap->routes = config_.routes;
  snap->limits = config_.limits;
  for (Upstream& up : upstreams_) {
    UpstreamView view;
    view.name = up.config.name;
    view.balance = up.config.balance;
    view.retry = up.config.retry;
    std::vector<std::uint32_t> primaries, backups, panic;
    for (std::uint32_t id = 0; id < up.servers.size(); ++id) {
      const ServerHealth& s = *up.servers[id];
      const int cap = s.config_.max_conns > 0 ? s.config_.max_conns : config_.limits.upstream_connections;
      view.servers.push_back({id, s.config_.address, s.endpoint_, s.effective_weight(now),
                              s.config_.backup, cap, s.stats_, up.servers[id]});
      if (s.available(now)) (s.config_.backup ? backups : primaries).push_back(id);
      if (s.admin_ == AdminState::kNone) panic.push_back(id);
      // Wake up again when an ejection ends or slow start moves on.
      if (s.ejector_.ejected(now)) effects.wake = std::min(effects.wake, s.ejector_.ejected_until());
      if (s.in_slow_start(now))
        effects.wake = std::min(effects.wake, now + std::max(std::chrono::milliseconds(100), s.slow_start_ / 20));
    }
    bool panic_now = false;
    if (!primaries.empty()) { view.serving = std::move(primaries); view.fallback = std::move(backups); }
    else if (!backups.empty()) view.serving = std::move(backups);
    else if (up.config.panic && !panic.empty()) { view.serving = std::move(panic); panic_now = true; }
    if (panic_now != up.panic) {
      effects.events.push_back({panic_now ? Event::Kind::kPanic : Event::Kind::kPanicOver, up.config.name, "", ""});
      up.panic = panic_now;
    }
    if (view.serving.empty()) effects.events.push_back({Event::Kind::kNoServer, up.config.name, "", ""});
    view.panic = panic_now;
    snap->upstreams.push_back(std::move(view));
  }
  snapshot_ = std::move(snap);
  effects.publish = true;
}

}  // namespace failover::lb
