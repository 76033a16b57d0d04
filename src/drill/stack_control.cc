#include "drill/stack_control.h"

#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <set>

#include "net/http_client.h"

namespace failover::drill {
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

const char* signal_event(int sig) {
  return sig == SIGKILL ? "SIGKILL" : sig == SIGSTOP ? "SIGSTOP" : sig == SIGCONT ? "SIGCONT" : "a signal";
}

class OwnStack final : public StackControl {
 public:
  explicit OwnStack(Stack& stack) : stack_(stack) {}

  asio::awaitable<core::Result<void>> start() override {
    auto started = co_await stack_.start_all();
    if (started) asio::co_spawn(co_await asio::this_coro::executor, stack_.watch(), asio::detached);
    co_return started;
  }

  asio::awaitable<core::Result<void>> signal(const std::string& component, int sig) override {
    if (!stack_.launcher().signal(component, sig)) co_return core::Error::conflict(component + " is not running");
    stack_.note(component, std::string("drill: ") + signal_event(sig));
    co_return core::ok();
  }

  asio::awaitable<core::Result<void>> restart(const std::string& component) override {
    co_return co_await stack_.restart(component);
  }

  asio::awaitable<core::Result<void>> set_link(const std::string& component, const Fault& fault) override {
    FaultProxy* proxy = stack_.proxy(component);
    if (proxy == nullptr) co_return core::Error::invalid(component + " has no proxy");
    proxy->set(fault);
    stack_.note(component, "drill: link " + to_string(fault));
    co_return core::ok();
  }

  asio::awaitable<std::vector<StackEvent>> events_since(core::TimePoint since) override {
    // The stack counts from when it was made.
    const milliseconds offset = std::chrono::duration_cast<milliseconds>(since - stack_.made());
    std::vector<StackEvent> out;
    for (StackEvent e : stack_.events()) {
      e.at -= offset;
      out.push_back(std::move(e));
    }
    co_return out;
  }

  asio::awaitable<void> stop() override { co_await stack_.stop_all(); }

 private:
  Stack& stack_;
};

class AttachedStack final : public StackControl {
 public:
  AttachedStack(asio::any_io_executor executor, const ClusterConfig& config)
      : up_(config.dashboard), http_(std::make_shared<net::HttpClient>(executor)) {}

  asio::awaitable<core::Result<void>> start() override {
    auto status = co_await up_status();
    if (!status) co_return status.error();
    const json::value* components = status->is_object() ? status->as_object().if_contains("components") : nullptr;
    if (!components || !components->is_array())
      co_return core::Error::unavailable("http://" + up_ + "/status is not failover up's");
    for (const json::value& c : components->as_array()) {
      const json::value* running = c.is_object() ? c.as_object().if_contains("running") : nullptr;
      if (!running || !running->is_bool() || !running->as_bool())
        co_return core::Error::unavailable("not every component of the attached stack runs: " + json::serialize(c));
    }
    co_return core::ok();
  }

  asio::awaitable<core::Result<void>> signal(const std::string& component, int sig) override {
    const char* verb = sig == SIGKILL ? "kill" : sig == SIGSTOP ? "stop" : "cont";
    auto done = co_await post("/components/" + component + "/" + verb, "", kSignalTimeout);
    if (done && sig == SIGSTOP) hung_.insert(component);
    if (done && sig == SIGCONT) hung_.erase(component);
    co_return done;
  }

  asio::awaitable<core::Result<void>> restart(const std::string& component) override {
    co_return co_await post("/components/" + component + "/restart", "", kRestartTimeout);
  }

  asio::awaitable<core::Result<void>> set_link(const std::string& component, const Fault& fault) override {
    net::ClientRequest req;
    req.method = "PUT";
    req.target = "/faults/" + component;
    req.body = to_string(fault);
    auto done = co_await call(std::move(req), kSignalTimeout);
    if (done && fault.kind == Fault::Kind::kNone) faulted_.erase(component);
    if (done && fault.kind != Fault::Kind::kNone) faulted_.insert(component);
    co_return done;
  }

  asio::awaitable<std::vector<StackEvent>> events_since(core::TimePoint since) override {
    std::vector<StackEvent> out;
    auto status = co_await up_status();
    const core::TimePoint now = core::SteadyClock::instance().now();
    if (!status || !status->is_object()) co_return out;
    const json::object& o = status->as_object();
    const json::value* uptime = o.if_contains("uptime_ms");
    const json::value* events = o.if_contains("events");
    if (!uptime || !uptime->is_number() || !events || !events->is_array()) co_return out;
    // up's clock counts from its start: now there is `uptime` here.
    const milliseconds up_now(uptime->to_number<long long>());
    const milliseconds since_ms = std::chrono::duration_cast<milliseconds>(now - since);
    for (const json::value& e : events->as_array()) {
      const json::object* o = e.if_object();
      const json::value* t = o ? o->if_contains("t_ms") : nullptr;
      const json::value* component = o ? o->if_contains("component") : nullptr;
      const json::value* what = o ? o->if_contains("event") : nullptr;
      if (!t || !t->is_number() || !component || !component->is_string() || !what || !what->is_string()) continue;
      StackEvent ev;
      ev.at = since_ms - (up_now - milliseconds(t->to_number<long long>()));
      ev.component = std::string(component->as_string());
      ev.what = std::string(what->as_string());
      out.push_back(std::move(ev));
    }
    co_return out;
  }

  asio::awaitable<void> stop() override {
    const std::set<std::string> hung = hung_, faulted = faulted_;
    for (const std::string& c : hung) co_await signal(c, SIGCONT);
    for (const std::string& c : faulted) co_await set_link(c, Fault{});
  }

 private:
  static constexpr milliseconds kSignalTimeout{2'000};
  static constexpr milliseconds kRestartTimeout{30'000};

  asio::awaitable<core::Result<json::value>> up_status() {
    net::ClientRequest req;
    req.target = "/status";
    auto http = http_;
    auto res = co_await http->request(up_, std::move(req), kSignalTimeout);
    if (!res) co_return core::Error::unavailable("failover up does not answer at http://" + up_ + "/status: " +
                                                 res.error().message);
    boost::system::error_code ec;
    json::value v = json::parse(res->body, ec);
    if (ec || res->status != 200) co_return core::Error::unavailable("http://" + up_ + "/status: " + res->body);
    co_return v;
  }

  asio::awaitable<core::Result<void>> post(const std::string& target, std::string body, milliseconds timeout) {
    net::ClientRequest req;
    req.method = "POST";
    req.target = target;
    req.body = std::move(body);
    co_return co_await call(std::move(req), timeout);
  }

  asio::awaitable<core::Result<void>> call(net::ClientRequest req, milliseconds timeout) {
    const std::string what = req.method + " http://" + up_ + req.target;
    auto http = http_;
    auto res = co_await http->request(up_, std::move(req), timeout);
    if (!res) co_return core::Error::unavailable(what + ": " + res.error().message);
    if (res->status != 200) co_return core::Error::unavailable(what + ": " + std::to_string(res->status) + " " + res->body);
    co_return core::ok();
  }

  std::string up_;  // host:port of up's dashboard
  std::shared_ptr<net::HttpClient> http_;
  std::set<std::string> hung_, faulted_;  // what this drill left, to lift at stop
};

}  // namespace

std::unique_ptr<StackControl> control_own_stack(Stack& stack) { return std::make_unique<OwnStack>(stack); }

std::unique_ptr<StackControl> control_attached_stack(asio::any_io_executor executor, const ClusterConfig& config) {
  return std::make_unique<AttachedStack>(std::move(executor), config);
}

}  // namespace failover::drill
