#include "drill/stack.h"

#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <stdexcept>

#include "drill/component_summary.h"
#include "net/endpoint.h"

namespace failover::drill {
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kReadyPoll{50};
constexpr milliseconds kRequestTimeout{500};

}  // namespace

Stack::Stack(asio::any_io_executor executor, ClusterConfig config, std::string binary, const core::Clock& clock)
    : executor_(executor),
      config_(std::move(config)),
      clock_(clock),
      made_(clock.now()),
      launcher_(std::move(binary), plan_cluster(config_)),
      views_(launcher_.plan().size()),
      polling_(launcher_.plan().size(), false),
      http_(std::make_shared<net::HttpClient>(executor, net::HttpClientOptions{}, clock)) {
  for (const ProxyPlan& p : plan_proxies(config_)) {
    proxies_.push_back(std::make_unique<FaultProxy>(executor, clock, p.upstream));
    proxy_admin_.add(p.component, *proxies_.back());
  }
}

Stack::~Stack() = default;

std::size_t Stack::index_of(const std::string& name) const {
  const auto& plan = launcher_.plan();
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (plan[i].name == name) return i;
  throw std::invalid_argument("no component named " + name);
}

const ComponentView& Stack::view(const std::string& name) const { return views_[index_of(name)]; }

milliseconds Stack::since_start() const {
  return std::chrono::duration_cast<milliseconds>(clock_.now() - made_);
}

void Stack::note(const std::string& component, std::string what) {
  events_.push_back({since_start(), component, std::move(what)});
  if (events_.size() > kMaxEvents) events_.pop_front();
}

void Stack::reap() {
  for (const std::string& name : launcher_.reap()) {
    const int status = *launcher_.state(name).last_exit;
    note(name, status > 128 ? "killed by signal " + std::to_string(status - 128)
                            : "exited with status " + std::to_string(status));
  }
}

asio::awaitable<bool> Stack::get_ok(const std::string& host_port, const std::string& target,
                                     const std::vector<std::string>& must_contain) {
  net::ClientRequest req;
  req.target = target;
  auto http = http_;  // the client outlives this call even if the stack goes first
  auto res = co_await http->request(host_port, std::move(req), kRequestTimeout);
  if (!res || res->status != 200) co_return false;
  for (const std::string& text : must_contain)
    if (res->body.find(text) == std::string::npos) co_return false;
  co_return true;
}

asio::awaitable<core::Result<void>> Stack::wait_ready(const std::string& name) {
  const ComponentPlan& p = *launcher_.find(name);
  const core::TimePoint started = clock_.now();
  const core::TimePoint deadline = started + config_.start_timeout;
  while (true) {
    reap();
    if (!launcher_.state(name).running)
      co_return core::Error::unavailable(name + " exited before it was ready; the end of " + p.log_path + ":\n" +
                                         launcher_.log_tail(name));
    const bool ok = co_await get_ok(p.admin, p.ready_path);
    if (ok) {
      const auto after = std::chrono::duration_cast<milliseconds>(clock_.now() - started);
      ComponentView& v = views_[index_of(name)];
      v.ready_after = after;
      v.answering = true;
      note(name, "ready after " + std::to_string(after.count()) + " ms");
      co_return core::ok();
    }
    if (clock_.now() >= deadline)
      co_return core::Error::timeout(name + " was not ready within " + std::to_string(config_.start_timeout.count()) +
                                     " ms (GET http://" + p.admin + p.ready_path + "); the end of " + p.log_path +
                                     ":\n" + launcher_.log_tail(name));
    co_await clock_.sleep_for(kReadyPoll);
  }
}

asio::awaitable<core::Result<void>> Stack::wait_serving() {
  struct Check {
    std::string what, host_port, target;
    std::vector<std::string> must_contain;
  };
  // Any one store node saying it is primary is enough; every LB and DNS
  // server must serve on its own, and every DNS server name every LB.
  std::vector<std::vector<Check>> any_of;
  std::vector<Check> stores;
  for (const StoreNodeSpec& n : config_.store_nodes) stores.push_back({"the store's primary", n.listen, "/primary", {}});
  any_of.push_back(stores);
  for (const LbSpec& l : config_.lbs)
    any_of.push_back({{l.name + " passing a request to an instance", l.listen, "/health", {}}});
  std::vector<std::string> lb_ips;  // as the DNS servers name them: "127.0.0.11" with its quotes
  for (const LbSpec& l : config_.lbs) {
    const std::string& address = reach(l.listen, l.proxy);
    lb_ips.push_back("\"" + address.substr(0, address.rfind(':')) + "\"");
  }
  for (const DnsSpec& d : config_.dns_nodes)
    any_of.push_back({{d.name + " naming every LB for " + config_.dns_name, d.http_listen,
                       "/d?host=" + config_.dns_name, lb_ips}});
  const core::TimePoint deadline = clock_.now() + config_.start_timeout;
  for (const auto& checks : any_of) {
    while (true) {
      bool ok = false;
      for (const Check& c : checks) {
        const bool served = co_await get_ok(c.host_port, c.target, c.must_contain);
        if (served) {
          ok = true;
          break;
        }
      }
      if (ok) break;
      if (clock_.now() >= deadline)
        co_return core::Error::timeout("no " + checks.front().what + " within " +
                                       std::to_string(config_.start_timeout.count()) + " ms");
      co_await clock_.sleep_for(kReadyPoll);
    }
  }
  note("stack", "serving");
  co_return core::ok();
}

asio::awaitable<core::Result<void>> Stack::start_all() {
  // The proxies first: components reach each other through them.
  for (const ProxyPlan& p : plan_proxies(config_)) {
    FaultProxy& proxy = *proxy_admin_.find(p.component);
    try {
      proxy.listen(*net::resolve_endpoint(p.listen));
    } catch (const std::exception& e) {
      co_return core::Error::unavailable("the proxy of " + p.component + " cannot listen on " + p.listen + ": " +
                                         e.what());
    }
    proxy.start();
  }
  if (auto w = launcher_.write_configs(); !w) co_return w.error();
  for (const ComponentPlan& p : launcher_.plan()) {
    if (stopping_) co_return core::Error::cancelled("stopped while starting");
    auto pid = launcher_.start(p.name);
    if (!pid) co_return pid.error();
    note(p.name, "started (pid " + std::to_string(*pid) + ")");
    auto ready = co_await wait_ready(p.name);
    if (!ready) co_return ready.error();
  }
  auto serving = co_await wait_serving();
  co_return serving;
}

asio::awaitable<core::Result<void>> Stack::restart(const std::string& name) {
  if (stopping_) co_return core::Error::cancelled("the stack is stopping");
  reap();
  auto pid = launcher_.start(name);
  if (!pid) co_return pid.error();
  note(name, "started again (pid " + std::to_string(*pid) + ")");
  auto ready = co_await wait_ready(name);
  co_return ready;
}

void Stack::count_requests(ComponentView& v, std::optional<RequestCounts> now_counts) {
  const core::TimePoint now = clock_.now();
  if (now_counts && v.last_counts && now > v.last_counted && now_counts->total >= v.last_counts->total) {
    const double seconds = std::chrono::duration<double>(now - v.last_counted).count();
    v.requests_per_s = static_cast<double>(now_counts->total - v.last_counts->total) / seconds;
    v.failures_per_s = static_cast<double>(now_counts->failed - std::min(now_counts->failed, v.last_counts->failed)) / seconds;
  } else {
    v.requests_per_s.reset();  // the first poll, or the component restarted and counts from 0
    v.failures_per_s.reset();
  }
  v.last_counts = now_counts;
  v.last_counted = now;
}

asio::awaitable<void> Stack::poll(std::size_t i) {
  const ComponentPlan& p = launcher_.plan()[i];
  net::ClientRequest req;
  req.target = "/status";
  auto http = http_;
  auto res = co_await http->request(p.admin, std::move(req), kRequestTimeout);
  polling_[i] = false;
  ComponentView& v = views_[i];
  const bool answering = res && res->status == 200;
  std::string state = v.state;
  if (answering) {
    boost::system::error_code ec;
    const json::value doc = json::parse(res->body, ec);
    if (!ec) {
      state = summarize_status(p.kind, doc);
      count_requests(v, request_counts(p.kind, doc));
    }
  }
  if (answering != v.answering) note(p.name, answering ? "answering again" : "not answering");
  if (answering && state != v.state && !v.state.empty()) note(p.name, v.state + " -> " + state);
  v.answering = answering;
  if (answering) v.state = std::move(state);
}

asio::awaitable<void> Stack::watch() {
  while (!stopping_) {
    reap();
    for (std::size_t i = 0; i < views_.size(); ++i) {
      const std::string& name = launcher_.plan()[i].name;
      if (!launcher_.state(name).running) {
        if (views_[i].answering) note(name, "not answering");
        views_[i].answering = false;
        continue;
      }
      if (polling_[i]) continue;  // a hung one: the last poll is still waiting
      polling_[i] = true;
      asio::co_spawn(executor_, poll(i), asio::detached);
    }
    co_await clock_.sleep_for(kPollInterval);
  }
}

asio::awaitable<void> Stack::stop_all() {
  stopping_ = true;
  const auto& plan = launcher_.plan();
  for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
    const std::string& name = it->name;
    reap();
    if (!launcher_.state(name).running) continue;
    if (launcher_.state(name).stopped) launcher_.signal(name, SIGCONT);
    launcher_.signal(name, SIGTERM);
    const core::TimePoint deadline = clock_.now() + kStopGrace;
    while (launcher_.state(name).running && clock_.now() < deadline) {
      co_await clock_.sleep_for(milliseconds(20));
      reap();
    }
    if (launcher_.state(name).running) {
      launcher_.signal(name, SIGKILL);
      while (launcher_.state(name).running) {
        co_await clock_.sleep_for(milliseconds(20));
        reap();
      }
    }
  }
  for (auto& p : proxies_) p->stop();
}

void Stack::metrics(core::MetricsWriter& w) const {
  constexpr std::string_view kRunning = "1 while the component's process runs (a hung one too).";
  constexpr std::string_view kAnswering = "1 while the component's /status answered the last poll.";
  constexpr std::string_view kStarts = "Times up started the component.";
  const auto& plan = launcher_.plan();
  w.family("failover_up_component_running", core::MetricType::kGauge, kRunning);
  w.family("failover_up_component_answering", core::MetricType::kGauge, kAnswering);
  w.family("failover_up_component_starts_total", core::MetricType::kCounter, kStarts);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const core::MetricsWriter::Labels labels = {{"component", plan[i].name}, {"kind", kind_name(plan[i].kind)}};
    const ChildState& s = launcher_.state(plan[i].name);
    w.gauge("failover_up_component_running", kRunning, labels, s.running ? 1 : 0);
    w.gauge("failover_up_component_answering", kAnswering, labels, views_[i].answering ? 1 : 0);
    w.counter("failover_up_component_starts_total", kStarts, labels, s.starts);
  }
}

std::string Stack::status_json() const {
  json::array components;
  const auto& plan = launcher_.plan();
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const ComponentPlan& p = plan[i];
    const ChildState& s = launcher_.state(p.name);
    json::array listens;
    for (const std::string& a : p.listens) listens.emplace_back(a);
    json::object c{{"name", p.name},
                   {"kind", kind_name(p.kind)},
                   {"pid", s.pid},
                   {"running", s.running},
                   {"hung", s.stopped},
                   {"answering", views_[i].answering},
                   {"state", views_[i].state},
                   {"admin", p.admin},
                   {"listens", std::move(listens)},
                   {"log", p.log_path},
                   {"starts", s.starts}};
    c["last_exit"] = s.last_exit ? json::value(*s.last_exit) : json::value(nullptr);
    const ComponentView& v = views_[i];
    c["requests_per_s"] = v.requests_per_s ? json::value(std::round(*v.requests_per_s)) : json::value(nullptr);
    c["failures_per_s"] = v.failures_per_s ? json::value(std::round(*v.failures_per_s)) : json::value(nullptr);
    components.push_back(std::move(c));
  }
  json::array events;
  for (const StackEvent& e : events_)
    events.push_back(json::object{{"t_ms", e.at.count()}, {"component", e.component}, {"event", e.what}});
  const json::object root{{"role", "up"},
                          {"version", FAILOVER_VERSION},
                          {"cluster", config_.source},
                          {"uptime_ms", since_start().count()},
                          {"components", std::move(components)},
                          {"proxies", json::parse(proxy_admin_.faults_json())},
                          {"events", std::move(events)}};
  return json::serialize(root) + "\n";
}

}  // namespace failover::drill
