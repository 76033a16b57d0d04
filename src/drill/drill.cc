#include "drill/drill.h"

#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <span>

#include "core/config_error.h"
#include "drill/drill_report.h"
#include "drill/drill_result.h"
#include "drill/history_json.h"
#include "drill/stack_control.h"
#include "drill/up_service.h"
#include "role/runner.h"

namespace failover::drill {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr Millis kWatchPoll{50};
constexpr Millis kStatusTimeout{300};
// The drill sees a change one poll and one /status round trip late.
constexpr Millis kPollSlack{250};

const json::value& at(const json::value& v, std::string_view key) {
  static const json::value null;
  const json::value* found = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return found ? *found : null;
}

bool is(const json::value& v, std::string_view text) { return v.is_string() && v.as_string() == text; }
bool is_true(const json::value& v) { return v.is_bool() && v.as_bool(); }

// Who notices a fault of a component, and how their /status shows it.
struct Watch {
  std::vector<std::string> observers;  // whose /status shows the fault; empty: only clients notice
  std::function<bool(const json::value&)> noticed;
  std::vector<std::string> back_observers;  // whose /status shows it taken back
  std::function<bool(const json::value&)> back;
  std::string watched_by;
};

// Whether any item reached by following `path` through nested arrays of
// objects (each step a key whose value is an array) satisfies `pred`.
bool any_item(const json::value& v, std::span<const std::string_view> path,
              const std::function<bool(const json::value&)>& pred) {
  if (path.empty()) return pred(v);
  const json::value& items = at(v, path.front());
  if (!items.is_array()) return false;
  for (const json::value& item : items.as_array())
    if (any_item(item, path.subspan(1), pred)) return true;
  return false;
}
bool any_item(const json::value& v, std::initializer_list<std::string_view> path,
              const std::function<bool(const json::value&)>& pred) {
  return any_item(v, std::span<const std::string_view>(path.begin(), path.size()), pred);
}

bool lb_server_in_state(const json::value& status, const std::string& address, std::string_view state) {
  return any_item(status, {"upstreams", "servers"},
                  [&](const json::value& s) { return is(at(s, "address"), address) && is(at(s, "state"), state); });
}

bool dns_target_in_state(const json::value& status, const std::string& target, std::string_view state) {
  return any_item(status, {"names", "targets"},
                  [&](const json::value& t) { return is(at(t, "target"), target) && is(at(t, "state"), state); });
}

bool registry_peer_reachable(const json::value& status, const std::string& url, bool reachable) {
  return any_item(status, {"peers"}, [&](const json::value& p) {
    return is(at(p, "url"), url) && at(p, "reachable").is_bool() && at(p, "reachable").as_bool() == reachable;
  });
}

// A store node at peace: a serving primary with every peer in sync, or an
// in-sync backup.
bool store_node_settled(const json::value& status) {
  if (is(at(status, "role"), "backup")) return is_true(at(status, "in_sync"));
  if (!is(at(status, "role"), "primary") || !is_true(at(status, "serving"))) return false;
  const json::value& peers = at(status, "peers");
  if (!peers.is_array()) return false;
  for (const json::value& p : peers.as_array())
    if (!is_true(at(p, "in_sync"))) return false;
  return true;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

class Drill {
 public:
  Drill(asio::io_context& io, const DrillOptions& o, const ClusterConfig& config, StackControl& control)
      : io_(io),
        o_(o),
        config_(config),
        plan_(plan_cluster(config)),
        control_(control),
        http_(std::make_shared<net::HttpClient>(io.get_executor())) {}

  asio::awaitable<int> run() {
    const ClusterConfig& c = config_;
    auto steps = o_.faults.empty() ? core::Result<std::vector<FaultStep>>(default_fault_steps(c))
                                   : parse_fault_steps(o_.faults, c);
    if (!steps) {
      std::cerr << "drill: --faults: " << steps.error().message << "\n";
      co_return core::kExitConfigError;
    }
    const std::string port = c.lbs.front().listen.substr(c.lbs.front().listen.rfind(':') + 1);
    for (const LbSpec& l : c.lbs)
      if (l.listen.substr(l.listen.rfind(':') + 1) != port) {
        std::cerr << "drill: every LB must listen on one port (DNS names IPs, not ports): " << l.name << " listens on "
                  << l.listen << ", " << c.lbs.front().name << " on " << c.lbs.front().listen << "\n";
        co_return core::kExitConfigError;
      }
    progress((o_.attach ? "attaching to the stack of " : "starting the stack of ") + c.source + " (" +
             std::to_string(plan_.size()) + " components)");
    auto started = co_await control_.start();
    if (!started) {
      std::cerr << "drill: the stack did not start: " << started.error().message << "\n";
      co_return 1;
    }

    LoadOptions lo;
    for (const DnsSpec& d : c.dns_nodes) lo.httpdns.push_back(reach(d.http_listen, d.proxy));
    lo.host = c.dns_name;
    lo.port = static_cast<std::uint16_t>(std::stoi(port));
    lo.clients = o_.clients;
    lo.deadline = o_.deadline;
    lo.attempt_timeout = std::min(lo.attempt_timeout, o_.deadline);
    lo.seed = o_.seed;
    lo.key_prefix = "drill-" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count()) +
                    "-";
    load_ = std::make_unique<Load>(io_.get_executor(), lo);
    load_->start();
    progress("load: " + std::to_string(o_.clients) + " clients, reads and writes of " + std::to_string(lo.keys) +
             " keys through HTTPDNS -> LB -> instance -> store");
    co_await core::SteadyClock::instance().sleep_for(o_.warmup);

    DrillResult result;
    for (std::size_t i = 0; i < steps->size(); ++i) {
      step_ = i + 1;
      steps_ = steps->size();
      result.faults.push_back(co_await one((*steps)[i]));
    }
    progress("stopping the load and reading every key once more");
    co_await load_->stop();
    finish(result);
    result.events = co_await control_.events_since(load_->started());
    progress(o_.attach ? "leaving the stack running" : "stopping the stack");
    co_await control_.stop();
    std::cout << "\n" << drill_table(result) << std::flush;
    if (!o_.json_path.empty()) write_out(o_.json_path, drill_json(result));
    if (!o_.report_path.empty()) write_out(o_.report_path, drill_report_html(result));
    if (!o_.history_path.empty()) write_out(o_.history_path, history_to_json_lines(load_->history(), load_->started()));
    co_return result.passed() ? 0 : 1;
  }

 private:
  void progress(const std::string& what) {
    std::string bar;
    if (steps_ > 0) {
      bar = "[";
      for (std::size_t i = 1; i <= steps_; ++i) bar += i < step_ ? '#' : i == step_ ? '>' : '.';
      bar += "] " + std::to_string(step_) + "/" + std::to_string(steps_) + " ";
    }
    std::cerr << "drill: " << bar << what << "\n" << std::flush;
  }

  void write_out(const std::string& path, const std::string& text) {
    if (path == "-") {
      std::cout << text << std::flush;
      return;
    }
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) std::cerr << "drill: cannot write " << path << "\n";
  }

  Millis since_load(core::TimePoint t) const {
    return std::chrono::duration_cast<Millis>(t - load_->started());
  }

  asio::awaitable<json::value> status(const std::string& name) {
    net::ClientRequest req;
    req.target = "/status";
    auto http = http_;
    auto res = co_await http->request(component(name)->admin, std::move(req), kStatusTimeout);
    if (!res || res->status != 200) co_return json::value();
    boost::system::error_code ec;
    json::value v = json::parse(res->body, ec);
    co_return ec ? json::value() : v;
  }

  // The first time every observer's /status satisfies `pred`, or nullopt
  // once `deadline` has passed.
  asio::awaitable<std::optional<core::TimePoint>> wait_until(const std::vector<std::string>& observers,
                                                             const std::function<bool(const json::value&)>& pred,
                                                             core::TimePoint deadline) {
    const core::Clock& clock = core::SteadyClock::instance();
    while (true) {  // at least one look, even at a deadline already passed
      bool all = true;
      for (const std::string& o : observers) {
        const json::value s = co_await status(o);
        if (!pred(s)) {
          all = false;
          break;
        }
      }
      if (all) co_return clock.now();
      if (clock.now() >= deadline) co_return std::nullopt;
      co_await clock.sleep_for(kWatchPoll);
    }
  }

  asio::awaitable<std::string> current_primary() {
    for (const StoreNodeSpec& n : config_.store_nodes) {
      const json::value s = co_await status(n.name);
      if (is(at(s, "role"), "primary") && is_true(at(s, "serving"))) co_return n.name;
    }
    co_return "";
  }

  // A cut or slowed replication link: the primary notices (its backup
  // leaves in_sync, or it loses the role if the witness says so); it is
  // taken back when the pair is at peace again.
  Watch store_link_watch(const std::string& primary) {
    Watch w;
    w.observers = {primary};
    w.noticed = [](const json::value& s) { return s.is_object() && !store_node_settled(s); };
    for (const StoreNodeSpec& n : config_.store_nodes) w.back_observers.push_back(n.name);
    w.back = store_node_settled;
    w.watched_by = primary;
    return w;
  }

  Watch watch_for(const ComponentPlan& target, bool was_primary) {
    const ClusterConfig& c = config_;
    Watch w;
    auto names = [](const auto& specs) {
      std::vector<std::string> out;
      for (const auto& s : specs) out.push_back(s.name);
      return out;
    };
    switch (target.kind) {
      case ComponentKind::kLb: {
        std::string listen;  // as the DNS servers check it: through its proxy, if any
        for (const LbSpec& l : c.lbs)
          if (l.name == target.name) listen = reach(l.listen, l.proxy);
        w.observers = w.back_observers = names(c.dns_nodes);
        w.noticed = [listen](const json::value& s) { return dns_target_in_state(s, listen, "down"); };
        w.back = [listen](const json::value& s) { return dns_target_in_state(s, listen, "up"); };
        break;
      }
      case ComponentKind::kService:
      case ComponentKind::kAgent: {
        std::string instance = target.name;
        if (target.kind == ComponentKind::kAgent) instance.resize(instance.size() - std::string("-agent").size());
        std::string listen;  // as registered, so as the LBs know it
        for (const InstanceSpec& i : c.instances)
          if (i.name == instance) listen = reach(i.listen, i.proxy);
        w.observers = w.back_observers = names(c.lbs);
        w.noticed = [listen](const json::value& s) { return !lb_server_in_state(s, listen, "up") && s.is_object(); };
        w.back = [listen](const json::value& s) { return lb_server_in_state(s, listen, "up"); };
        break;
      }
      case ComponentKind::kRegistry: {
        // The agents notice (they move to another peer); the other peers
        // take it back once they replicate to it again.
        std::string url;  // as the agents and peers call it
        for (const NamedAddress& r : c.registry_nodes)
          if (r.name == target.name) url = "http://" + reach(r.listen, r.proxy);
        for (const InstanceSpec& i : c.instances) w.observers.push_back(i.name + "-agent");
        for (const NamedAddress& r : c.registry_nodes)
          if (r.name != target.name) w.back_observers.push_back(r.name);
        w.noticed = [url](const json::value& s) { return at(s, "registry").is_string() && !is(at(s, "registry"), url); };
        w.back = [url](const json::value& s) { return registry_peer_reachable(s, url, true); };
        break;
      }
      case ComponentKind::kStore: {
        for (const StoreNodeSpec& n : c.store_nodes)
          if (n.name != target.name) w.observers.push_back(n.name);
        const std::string node = target.name;
        if (was_primary) {
          w.noticed = [](const json::value& s) { return is(at(s, "role"), "primary") && is_true(at(s, "serving")); };
        } else {
          w.noticed = [node](const json::value& s) {
            const json::value& peers = at(s, "peers");
            if (!peers.is_array()) return false;
            for (const json::value& p : peers.as_array())
              if (is(at(p, "node"), node)) return !is_true(at(p, "in_sync"));
            return false;
          };
        }
        w.back_observers = {node};
        w.back = [](const json::value& s) { return is(at(s, "role"), "backup") && is_true(at(s, "in_sync")); };
        break;
      }
      case ComponentKind::kWitness:
        w.observers = w.back_observers = names(c.store_nodes);
        w.noticed = [](const json::value& s) { return at(at(s, "arbiter"), "reachable").is_bool() && !is_true(at(at(s, "arbiter"), "reachable")); };
        w.back = [](const json::value& s) { return is_true(at(at(s, "arbiter"), "reachable")); };
        break;
      case ComponentKind::kDns:
        w.back_observers = {target.name};  // only clients notice a DNS server go: it answers again
        w.back = [](const json::value& s) { return is(at(s, "role"), "dns"); };
        break;
    }
    w.watched_by = w.observers.empty() ? "clients"
                   : w.observers.size() > 2 ? std::to_string(w.observers.size()) + " " + kind_name(component(w.observers.front())->kind) + "s"
                                            : joined(w.observers);
    return w;
  }

  asio::awaitable<FaultResult> one(const FaultStep& step) {
    const core::Clock& clock = core::SteadyClock::instance();
    FaultResult f;
    f.step = step;
    f.component = step.target;
    const bool primary = step.target == kPrimaryTarget;
    if (primary) f.component = co_await current_primary();
    const ComponentPlan* target = f.component.empty() ? nullptr : component(f.component);
    if (target == nullptr) {
      f.note = "no store node was primary: fault skipped";
      progress(f.note);
      co_return f;
    }
    f.kind = target->kind;
    bool was_primary = primary;
    if (target->kind == ComponentKind::kStore && !primary) {
      const json::value s = co_await status(f.component);
      was_primary = is(at(s, "role"), "primary");
    }
    const bool link = step.action == FaultAction::kLink;
    const bool store_link = link && target->kind == ComponentKind::kStore;
    f.bounds = bounds_for(target->kind, config_, kPollSlack);
    // How long to look for a fault that may pass unnoticed: as long as a
    // fault that cannot would take.
    const Millis look_for = may_pass_unnoticed(step) ? f.bounds.detect.value_or(o_.hold) : o_.max_wait;
    if (may_pass_unnoticed(step) || (target->kind == ComponentKind::kStore && !was_primary && !store_link))
      f.bounds.detect.reset();
    std::string primary_now = f.component;
    if (store_link && !was_primary) primary_now = co_await current_primary();
    if (primary_now.empty()) {
      f.note = "no store node was primary: fault skipped";
      progress(f.note);
      co_return f;
    }
    const Watch w = store_link ? store_link_watch(primary_now) : watch_for(*target, was_primary);
    f.watched_by = w.watched_by;
    const std::string what = step_action(step) + " " + f.component;

    // A watcher that shows the fault before it comes cannot time it.
    bool measurable = !w.observers.empty();
    if (measurable) {
      const auto before = co_await wait_until(w.observers, w.noticed, clock.now());
      if (before) {
        measurable = false;
        f.note = f.watched_by + " showed it before the fault: not timed";
      }
    }

    const core::TimePoint t0 = clock.now();
    f.at = since_load(t0);
    // (GCC 12 miscompiles co_await inside a conditional expression: ifs.)
    core::Result<void> done = core::ok();
    if (link) done = co_await set_link(f.component, step.link);
    else done = co_await control_.signal(f.component, step.action == FaultAction::kKill ? SIGKILL : SIGSTOP);
    if (!done) {
      if (link) co_await set_link(f.component, Fault{});  // not half a cut
      f.note = "the fault could not be made: " + done.error().message;
      progress(what + ": " + f.note);
      co_return f;
    }
    progress(what + ": done, waiting for " + f.watched_by + " to notice");
    if (measurable) {
      const auto seen = co_await wait_until(w.observers, w.noticed, t0 + look_for);
      if (seen) {
        f.failed_over = f.detected = std::chrono::duration_cast<Millis>(*seen - t0);
        if (was_primary && !link) f.detected = co_await store_detection(*f.failed_over);
        progress(what + ": noticed after " + std::to_string(f.detected->count()) + " ms");
      } else {
        f.note = (may_pass_unnoticed(step) ? "ridden out: not noticed within " : "not noticed within ") +
                 std::to_string(look_for.count()) + " ms";
        progress(what + ": " + f.note);
      }
    }
    co_await clock.sleep_for(o_.hold);

    core::Result<void> undone = core::ok();
    if (link) undone = co_await set_link(f.component, Fault{});
    else if (step.action == FaultAction::kKill) undone = co_await control_.restart(f.component);
    else undone = co_await control_.signal(f.component, SIGCONT);
    if (!undone) f.note += (f.note.empty() ? "" : "; ") + ("restoring it failed: " + undone.error().message);
    const core::TimePoint restored = clock.now();
    f.restored = std::chrono::duration_cast<Millis>(restored - t0);
    progress(what + ": restored, waiting for it to be taken back");
    const auto back = co_await wait_until(w.back_observers, w.back, restored + o_.max_wait);
    if (back) {
      f.failed_back = std::chrono::duration_cast<Millis>(*back - restored);
      progress(what + ": taken back after " + std::to_string(f.failed_back->count()) + " ms");
    } else {
      f.note += (f.note.empty() ? "" : "; ") + std::string("not taken back within ") +
                std::to_string(o_.max_wait.count()) + " ms";
    }
    co_await clock.sleep_for(o_.settle);

    const core::TimePoint t1 = clock.now();
    for (const FailedRequest& r : load_->failures())
      if (r.at >= t0 && r.at < t1) ++(r.write ? f.writes_failed : f.reads_failed);
    f.outage = failed_time(load_->failures(), t0, t1);
    co_return f;
  }

  // Sets `fault` on every proxy that carries the links of `component`.
  asio::awaitable<core::Result<void>> set_link(const std::string& component, const Fault& fault) {
    for (const std::string& name : link_proxies(component, config_)) {
      auto done = co_await control_.set_link(name, fault);
      if (!done) co_return done;
    }
    co_return core::ok();
  }

  const ComponentPlan* component(const std::string& name) const {
    for (const ComponentPlan& p : plan_)
      if (p.name == name) return &p;
    return nullptr;
  }

  // For a store failover: the new primary's own timing says when it first
  // suspected the old one; detection is the failover minus what came after.
  asio::awaitable<Millis> store_detection(Millis failed_over) {
    const std::string now_primary = co_await current_primary();
    if (now_primary.empty()) co_return failed_over;
    const json::value s = co_await status(now_primary);
    const json::value& failovers = at(s, "failovers");
    if (!failovers.is_array() || failovers.as_array().empty()) co_return failed_over;
    const json::value& to_serving = at(failovers.as_array().back(), "total_to_serving_ms");
    if (!to_serving.is_int64() && !to_serving.is_uint64()) co_return failed_over;
    const Millis after(to_serving.to_number<long long>());
    co_return after < failed_over ? failed_over - after : Millis{0};
  }

  void finish(DrillResult& r) {
    const Load& l = *load_;
    r.cluster = config_.source;
    r.seed = o_.seed;
    r.clients = o_.clients;
    r.duration = since_load(core::SteadyClock::instance().now());
    r.reads = l.reads();
    r.writes = l.writes();
    r.reads_failed = l.read_failures();
    r.writes_failed = l.write_failures();
    r.retried = l.retried();
    std::vector<Millis> latencies;
    for (const Operation& op : l.history())
      if (op.outcome == Operation::Outcome::kOk) latencies.push_back(std::chrono::duration_cast<Millis>(op.end - op.start));
    std::sort(latencies.begin(), latencies.end());
    if (!latencies.empty()) {
      r.latency_p50 = latencies[latencies.size() / 2];
      r.latency_p99 = latencies[latencies.size() * 99 / 100];
      r.latency_max = latencies.back();
    }
    r.operations = l.history().size();
    r.violations = check_history(l.history());
    r.lost_writes = count_lost_writes(l.history());
    for (const Violation& v : r.violations)
      if (v.kind == Violation::Kind::kStaleRead) ++r.stale_reads;
    r.timeline = l.timeline();
    for (const FailedRequest& f : l.failures()) {
      if (r.failures.size() == 10) break;
      r.failures.push_back(std::to_string(since_load(f.at).count()) + " ms: " + (f.write ? "PUT " : "GET ") + f.key +
                           ": " + f.why);
    }
  }

  asio::io_context& io_;
  const DrillOptions& o_;
  const ClusterConfig& config_;
  std::vector<ComponentPlan> plan_;
  StackControl& control_;
  std::shared_ptr<net::HttpClient> http_;
  std::unique_ptr<Load> load_;
  std::size_t step_ = 0, steps_ = 0;
};

}  // namespace

int run_drill(const DrillOptions& o) {
  const ClusterConfig config = load_cluster_config(o.config);
  asio::io_context io{1};
  role::Runner runner(io, "drill");
  // A stack of its own, served on the dashboard address as up serves it;
  // or, attached, the one a `failover up` serves there.
  std::optional<Stack> own;
  std::unique_ptr<StackControl> control;
  if (o.attach) {
    control = control_attached_stack(io.get_executor(), config);
  } else {
    own.emplace(io.get_executor(), config, o.binary.empty() ? this_binary() : o.binary);
    if (!serve_stack_dashboard(io, runner, *own)) return role::kExitListenError;
    control = control_own_stack(*own);
  }
  Drill drill(io, o, config, *control);
  runner.on_stop([&]() -> asio::awaitable<void> { co_await control->stop(); },
                 [&] { return Stack::kStopGrace * static_cast<int>(plan_cluster(config).size() + 1); });
  int status = 1;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        status = co_await drill.run();
        co_await control->stop();
        runner.stop();
      },
      asio::detached);
  runner.run();
  return status;
}

}  // namespace failover::drill
