#include "agent/agent.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <csignal>
#include <random>
#include <spdlog/spdlog.h>

#include "agent/instance_state.h"
#include "client/registry_client.h"
#include "health/probe.h"
#include "net/endpoint.h"
#include "net/http_server.h"

namespace failover::agent {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

core::TimePoint now() { return core::SteadyClock::instance().now(); }

asio::awaitable<void> sleep_until(core::TimePoint t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// One local service: its state, and the last things that happened to it for /status.
struct Tracked {
  const AgentService& config;
  InstanceState state;
  std::string last_probe = "none";
  std::string last_registry = "none";
  core::TimePoint wake_probe_loop{};
  asio::steady_timer* heartbeat_timer = nullptr;  // woken when a probe asks for an action

  explicit Tracked(const AgentService& c)
      : config(c), state(c.ttl, c.check.enabled, c.check.rise, c.check.fall) {}
};

Outcome outcome_of(const core::Result<void>& r) {
  if (r.ok()) return Outcome::kOk;
  if (r.is(core::ErrorCode::kNotFound)) return Outcome::kNotFound;
  return Outcome::kFailed;
}

asio::awaitable<void> perform(Tracked& t, Action action, client::RegistryClient& registry) {
  if (action == Action::kNone) co_return;
  const AgentService& c = t.config;
  core::Result<void> r;
  switch (action) {
    case Action::kRegister: {
      // Named, not braced in the co_await: GCC 12 destroys such temporaries twice.
      client::InstanceSpec spec{c.address, c.port, c.ttl, c.meta};
      const auto registered = co_await registry.register_instance(c.name, c.id, std::move(spec));
      if (!registered) r = registered.error();
      break;
    }
    case Action::kHeartbeat:
      r = co_await registry.heartbeat(c.name, c.id);
      break;
    case Action::kReportFailed:
      r = co_await registry.report_failed(c.name, c.id);
      break;
    case Action::kNone:
      break;
  }
  const char* what = action == Action::kRegister ? "register" : action == Action::kHeartbeat ? "heartbeat" : "report failed";
  if (!r.ok() || action != Action::kHeartbeat)  // a heartbeat that worked is not news
    spdlog::log(r.ok() ? spdlog::level::info : spdlog::level::warn, "{}/{}: {} via {}: {}", c.name,
                c.id, what, registry.current(), r.ok() ? std::string("ok") : r.error().message);
  t.last_registry = std::string(what) + ": " + (r.ok() ? std::string("ok") : r.error().message);
  t.state.on_result(action, outcome_of(r), now());
}

// Probes every interval (first one at a random phase, as the LB does, so
// many agents do not probe in step) and acts on a change at once.
asio::awaitable<void> probe_loop(Tracked& t, client::RegistryClient& registry) {
  const AgentService& c = t.config;
  const auto endpoint = net::resolve_endpoint(c.address + ":" + std::to_string(c.port));
  std::mt19937 rng(std::random_device{}());
  core::TimePoint next = now() + milliseconds(std::uniform_int_distribution<long>(0, c.check.interval.count() / 4)(rng));
  for (;;) {
    co_await sleep_until(next);
    next += c.check.interval;
    health::ProbeResult result;
    if (endpoint) {
      result = co_await health::probe(*endpoint, c.check);
    } else {
      result.detail = "cannot resolve " + c.address;
    }
    const bool was_up = t.state.healthy();
    const Action action = t.state.on_probe(result.ok, now());
    t.last_probe = result.ok ? "ok" : std::string(health::cause_name(result.cause)) +
                                          (result.detail.empty() ? "" : ": " + result.detail);
    if (t.state.healthy() != was_up)
      spdlog::info("{}/{}: check {} ({})", c.name, c.id, t.state.healthy() ? "passes" : "fails", t.last_probe);
    co_await perform(t, action, registry);
    if (t.heartbeat_timer) t.heartbeat_timer->cancel();  // its next due time may have moved
    if (next < now()) next = now();  // a slow probe does not cause a burst
  }
}

// Sends what is due (registration, heartbeats) while the service is healthy.
asio::awaitable<void> heartbeat_loop(Tracked& t, client::RegistryClient& registry) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  t.heartbeat_timer = &timer;
  for (;;) {
    co_await perform(t, t.state.due(now()), registry);
    const Action next = t.state.due(now());
    if (next != Action::kNone) continue;
    // Not healthy: sleep until a probe wakes us; else until the next heartbeat.
    timer.expires_at(t.state.healthy() ? t.state.next_due() : core::TimePoint::max());
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::string status_json(const AgentConfig& config, const std::vector<std::unique_ptr<Tracked>>& tracked,
                        const client::RegistryClient& registry) {
  boost::json::array services;
  for (const auto& t : tracked) {
    services.push_back(boost::json::object{
        {"name", t->config.name},
        {"id", t->config.id},
        {"address", t->config.address + ":" + std::to_string(t->config.port)},
        {"healthy", t->state.healthy()},
        {"registered", t->state.registered()},
        {"consecutive_successes", t->state.rise_fall().consecutive_successes()},
        {"consecutive_failures", t->state.rise_fall().consecutive_failures()},
        {"last_probe", t->last_probe},
        {"last_registry_call", t->last_registry}});
  }
  return boost::json::serialize(boost::json::object{
             {"role", "agent"}, {"registry", registry.current()}, {"services", std::move(services)}}) + "\n";
}

}  // namespace

int run(const std::string& config_path) {
  const AgentConfig config = load_agent_config(config_path);
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io{1};
  client::RegistryClient registry(io.get_executor(), config.registry, config.token);

  std::vector<std::unique_ptr<Tracked>> tracked;
  for (const AgentService& s : config.services) tracked.push_back(std::make_unique<Tracked>(s));
  for (auto& t : tracked) {
    asio::co_spawn(io, heartbeat_loop(*t, registry), asio::detached);
    if (t->config.check.enabled) asio::co_spawn(io, probe_loop(*t, registry), asio::detached);
  }
  if (!config.admin.empty()) {
    const auto endpoint = net::resolve_endpoint(config.admin);
    try {
      net::serve_http(io, *endpoint, [&](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
        if (req.method == "GET" && req.path == "/status")
          co_return net::HttpResponse::json(200, status_json(config, tracked, registry));
        co_return net::HttpResponse::error(404, "the agent serves GET /status");
      });
    } catch (const boost::system::system_error& e) {
      spdlog::critical("cannot listen on {}: {}", config.admin, e.what());
      return 1;
    }
  }
  spdlog::info("failover agent {}: {} services, registry {}", FAILOVER_VERSION, config.services.size(),
               registry.current());

  // SIGTERM: leave the registry cleanly, so callers stop at once instead of
  // after the lease; bounded, since a registry may be down.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: deregistering", sig);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      for (auto& t : tracked)
        if (t->state.registered()) co_await registry.deregister(t->config.name, t->config.id);
      io.stop();
    }, asio::detached);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      co_await sleep_until(now() + std::chrono::seconds(5));
      io.stop();
    }, asio::detached);
  });
  io.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace failover::agent
