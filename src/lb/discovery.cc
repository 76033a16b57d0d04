#include "lb/discovery.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <spdlog/spdlog.h>

#include "client/registry_client.h"
#include "client/service_follower.h"
#include "core/yaml_util.h"
#include "lb/control_loop.h"

namespace failover::lb {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kWait{30'000};       // one blocking query
constexpr milliseconds kRetryPause{1'000};  // after every registry failed

std::string meta_string(const boost::json::object& meta, std::string_view key) {
  const boost::json::value* v = meta.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

bool server_from_instance(const client::ServiceInstance& instance, ServerConfig& out) {
  const bool v6 = instance.address.find(':') != std::string::npos;
  out = ServerConfig{};
  out.address = (v6 ? "[" + instance.address + "]" : instance.address) + ":" + std::to_string(instance.port);
  if (!core::address_problem(out.address).empty()) return false;
  boost::system::error_code ec;
  const boost::json::value meta = boost::json::parse(instance.meta, ec);
  if (!ec && meta.is_object()) {
    const std::string weight = meta_string(meta.as_object(), "weight");
    int w = 0;
    auto [ptr, err] = std::from_chars(weight.data(), weight.data() + weight.size(), w);
    if (!weight.empty() && err == std::errc() && ptr == weight.data() + weight.size() && w >= 1 && w <= 1000)
      out.weight = w;
    out.backup = meta_string(meta.as_object(), "backup") == "true";
  }
  return true;
}

struct Discovery::Watch {
  std::string upstream;
  DiscoveryConfig config;
  client::RegistryClient client;
  std::stop_source stop;

  Watch(asio::io_context& io, std::string name, DiscoveryConfig c, const core::Clock& clock)
      : upstream(std::move(name)),
        config(std::move(c)),
        client(io.get_executor(), config.registry, config.token, {.clock = &clock}) {}
};

namespace {

asio::awaitable<void> follow(std::shared_ptr<Discovery::Watch> w, ControlLoop& control, const core::Clock& clock) {
  std::uint64_t index = 0;
  std::vector<std::string> last;  // addresses handed to control, to skip no-op updates
  bool first = true;
  auto on_result = [&](const client::ServiceResult& r) {
    const client::ServiceState& st = client::state_of(r);
    Control::DiscoveryState state{w->client.current(), st.index, st.protected_mode, r ? "" : r.error().message};
    if (!r.ok() && !r.is(core::ErrorCode::kNotFound)) {
      state.index = index;
      control.set_discovery_state(w->upstream, state);
      spdlog::warn("upstream {}: discovery of {} failed, keeping {} servers: {}", w->upstream,
                   w->config.service, last.size(), r.error().message);
      return;
    }
    index = st.index;
    std::vector<ServerConfig> servers;
    std::vector<std::string> addresses;
    for (const client::ServiceInstance& i : st.instances) {
      ServerConfig s;
      if (!server_from_instance(i, s)) {
        spdlog::warn("upstream {}: instance {} has an unusable address {}", w->upstream, i.id, i.address);
        continue;
      }
      addresses.push_back(s.address + "/" + std::to_string(s.weight) + (s.backup ? "b" : ""));
      servers.push_back(std::move(s));
    }
    control.set_discovery_state(w->upstream, state);
    if (first || addresses != last) {
      spdlog::info("upstream {}: {} servers from registry service {} (index {}{})", w->upstream,
                   servers.size(), w->config.service, index, st.protected_mode ? ", protected" : "");
      control.set_discovered(w->upstream, std::move(servers));
      last = std::move(addresses);
      first = false;
    }
  };
  co_await client::follow_service(clock, w->client, w->config.service, w->stop.get_token(), on_result,
                                  {.wait = kWait, .retry_pause = kRetryPause});
}

}  // namespace

Discovery::Discovery(asio::io_context& control_io, ControlLoop& control, const core::Clock& clock)
    : io_(control_io), control_(control), clock_(clock) {}

Discovery::~Discovery() {
  for (auto& [name, w] : watches_) w->stop.request_stop();
}

void Discovery::apply(const LbConfig& config) {
  std::map<std::string, std::shared_ptr<Watch>> next;
  for (const UpstreamConfig& u : config.upstreams) {
    if (!u.discovery) continue;
    auto it = watches_.find(u.name);
    if (it != watches_.end() && it->second->config == *u.discovery) {
      next[u.name] = it->second;  // unchanged: keeps its place and its servers
      continue;
    }
    auto w = std::make_shared<Watch>(io_, u.name, *u.discovery, clock_);
    next[u.name] = w;
    asio::co_spawn(io_, follow(w, control_, clock_), asio::detached);
  }
  for (auto& [name, w] : watches_)
    if (!next.contains(name) || next[name] != w) w->stop.request_stop();
  watches_ = std::move(next);
}

}  // namespace failover::lb
