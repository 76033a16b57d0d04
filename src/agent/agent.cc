#include "agent/agent.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "agent/instance_state.h"
#include "client/registry_client.h"
#include "health/runner.h"
#include "net/endpoint.h"
#include "net/http_server.h"
#include "role/endpoints.h"
#include "role/runner.h"

namespace failover::agent {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// One local service: its state, and the last things that happened to it for /status.
struct Tracked {
  const AgentService& config;
  InstanceState state;
  std::string last_probe = "none";
  std::string last_registry = "none";
  // What a probe decided (report a failure, register, heartbeat); the
  // registry loop sends it, so one coroutine alone talks to the registry.
  Action pending = Action::kNone;
  std::stop_source wake;  // requested when `pending` is set: the registry loop stops sleeping

  Tracked(const AgentService& c, core::TimePoint now) : config(c), state(c.ttl, c.check, now) {}
};

Outcome outcome_of(const core::Result<void>& r) {
  if (r.ok()) return Outcome::kOk;
  if (r.is(core::ErrorCode::kNotFound)) return Outcome::kNotFound;
  return Outcome::kFailed;
}

asio::awaitable<void> perform(Tracked& t, Action action, client::RegistryClient& registry,
                              const core::Clock& clock) {
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
  t.state.on_result(action, outcome_of(r), clock.now());
}

// A probe result: the state decides, and what it wants sent goes to the
// registry loop.
const health::Target& on_probe(Tracked& t, const health::ProbeResult& result, const core::Clock& clock) {
  const AgentService& c = t.config;
  const bool was_up = t.state.healthy();
  const Action action = t.state.on_probe(result, clock.now());
  t.last_probe = result.ok ? "ok" : std::string(health::cause_name(result.cause)) +
                                        (result.detail.empty() ? "" : ": " + result.detail);
  if (t.state.healthy() != was_up)
    spdlog::info("{}/{}: check {} ({})", c.name, c.id, t.state.healthy() ? "passes" : "fails", t.last_probe);
  if (action != Action::kNone) t.pending = action;
  t.wake.request_stop();  // what is due may have moved
  return t.state.health();
}

// Sends what a probe decided, then what is due (registration, heartbeats)
// while the service is healthy; sleeps until the next heartbeat or a probe.
asio::awaitable<void> registry_loop(Tracked& t, client::RegistryClient& registry, const core::Clock& clock) {
  for (;;) {
    const Action decided = std::exchange(t.pending, Action::kNone);
    if (decided != Action::kNone) co_await perform(t, decided, registry, clock);
    co_await perform(t, t.state.due(clock.now()), registry, clock);
    if (t.pending != Action::kNone || t.state.due(clock.now()) != Action::kNone) continue;
    t.wake = std::stop_source();
    co_await clock.sleep_until(t.state.next_due(), t.wake.get_token());
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
        {"consecutive_successes", t->state.health().successes()},
        {"consecutive_failures", t->state.health().failures()},
        {"reason", t->state.health().reason()},
        {"last_probe", t->last_probe},
        {"last_registry_call", t->last_registry}});
  }
  return boost::json::serialize(boost::json::object{{"role", "agent"},
                                                    {"version", FAILOVER_VERSION},
                                                    {"registry", registry.current()},
                                                    {"services", std::move(services)}}) +
         "\n";
}

void metrics(core::MetricsWriter& w, const std::vector<std::unique_ptr<Tracked>>& tracked) {
  constexpr std::string_view kHealthy = "1 while the service passes its check (heartbeats are sent only then).";
  constexpr std::string_view kRegistered = "1 while the instance is registered with the registry.";
  constexpr std::string_view kFailures = "Failed checks in a row.";
  w.family("failover_agent_service_healthy", core::MetricType::kGauge, kHealthy);
  w.family("failover_agent_service_registered", core::MetricType::kGauge, kRegistered);
  w.family("failover_agent_check_consecutive_failures", core::MetricType::kGauge, kFailures);
  for (const auto& t : tracked) {
    const core::MetricsWriter::Labels labels = {{"service", t->config.name}, {"id", t->config.id}};
    w.gauge("failover_agent_service_healthy", kHealthy, labels, t->state.healthy() ? 1 : 0);
    w.gauge("failover_agent_service_registered", kRegistered, labels, t->state.registered() ? 1 : 0);
    w.gauge("failover_agent_check_consecutive_failures", kFailures, labels,
            t->state.health().failures());
  }
}

}  // namespace

int run(const std::string& config_path) {
  const AgentConfig config = load_agent_config(config_path);
  asio::io_context io{1};
  role::Runner runner(io, "agent");
  client::RegistryClient registry(io.get_executor(), config.registry, config.token);

  std::vector<std::unique_ptr<Tracked>> tracked;
  const core::Clock& clock = core::SteadyClock::instance();
  std::stop_source stop_checks;  // the probe loops live as long as the process
  for (const AgentService& s : config.services) tracked.push_back(std::make_unique<Tracked>(s, clock.now()));
  for (auto& t : tracked) {
    asio::co_spawn(io, registry_loop(*t, registry, clock), asio::detached);
    if (!t->config.check.enabled) continue;
    const AgentService& c = t->config;
    health::ProbeFn probe;
    if (const auto endpoint = net::resolve_endpoint(c.address + ":" + std::to_string(c.port))) {
      probe = health::probe_endpoint(*endpoint, c.check);
    } else {
      probe = [address = c.address]() -> asio::awaitable<health::ProbeResult> {
        co_return health::ProbeResult{false, health::Cause::kError, 0, milliseconds(0), "cannot resolve " + address};
      };
    }
    asio::co_spawn(io,
                   health::run_checks(clock, c.check, std::move(probe),
                                      [&t = *t, &clock](const health::ProbeResult& r) -> const health::Target& {
                                        return on_probe(t, r, clock);
                                      },
                                      stop_checks.get_token(), health::random_phase()),
                   asio::detached);
  }
  const role::Endpoints endpoints{
      .status = [&] { return status_json(config, tracked, registry); },
      .metrics = [&](core::MetricsWriter& w) { metrics(w, tracked); }};
  if (!config.admin.empty() && !runner.listen(config.admin, [&] {
        net::serve_http(io, *net::resolve_endpoint(config.admin),
                        [&](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
                          if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
                          co_return net::HttpResponse::error(404, "the agent serves GET /status, /metrics and /");
                        });
      }))
    return role::kExitListenError;
  spdlog::info("failover agent {}: {} services, registry {}", FAILOVER_VERSION, config.services.size(),
               registry.current());

  // SIGTERM: leave the registry cleanly, so callers stop at once instead of
  // after the lease; bounded, since a registry may be down.
  runner.on_stop(
      [&]() -> asio::awaitable<void> {
        spdlog::info("deregistering");
        for (auto& t : tracked)
          if (t->state.registered()) co_await registry.deregister(t->config.name, t->config.id);
      },
      [] { return std::chrono::milliseconds(5'000); });
  return runner.run();
}

}  // namespace failover::agent
