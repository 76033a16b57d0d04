#pragma once
// The running stack of a cluster file, for `failover up` and the drill:
// starts the components in order, each once the one before is ready; polls
// every component's /status and keeps one line of state for each and a
// list of what changed; stops them in the reverse order.
//
// Runs on one io_context thread: every call from that thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics_writer.h"
#include "core/result.h"
#include "drill/cluster_config.h"
#include "drill/component_summary.h"
#include "drill/fault_proxy.h"
#include "drill/launcher.h"
#include "drill/proxy_admin.h"
#include "net/http_client.h"

namespace failover::drill {

// What the stack knows of one component now.
struct ComponentView {
  bool answering = false;  // its /status answered the last poll
  std::string state;       // summarize_status() of that answer; "" before one
  std::chrono::milliseconds ready_after{0};  // from its start to its first ready answer
  // Requests and failed requests per second between the last two polls
  // (LBs and instances; nullopt for the others and before two polls).
  std::optional<double> requests_per_s, failures_per_s;
  std::optional<RequestCounts> last_counts;
  core::TimePoint last_counted;
};

struct StackEvent {
  std::chrono::milliseconds at{0};  // since the stack was made
  std::string component;
  std::string what;  // "started (pid 123)", "exited with status 137", "primary e2 -> backup e3", ...
};

class Stack {
 public:
  static constexpr std::size_t kMaxEvents = 500;
  static constexpr std::chrono::milliseconds kPollInterval{250};
  static constexpr std::chrono::milliseconds kStopGrace{5'000};  // SIGTERM, then SIGKILL

  Stack(boost::asio::any_io_executor executor, ClusterConfig config, std::string binary,
        const core::Clock& clock = core::SteadyClock::instance());
  ~Stack();

  const ClusterConfig& config() const { return config_; }
  Launcher& launcher() { return launcher_; }
  const Launcher& launcher() const { return launcher_; }
  const ComponentView& view(const std::string& name) const;
  const std::deque<StackEvent>& events() const { return events_; }
  // The fault proxy in front of `component` (the cluster file's `proxy:`),
  // or null; and all of them, by component, for GET/PUT /faults.
  FaultProxy* proxy(const std::string& component) const { return proxy_admin_.find(component); }
  ProxyAdmin& proxy_admin() { return proxy_admin_; }
  core::TimePoint made() const { return made_; }  // events count from here

  // Opens the fault proxies, writes the configs and starts every component
  // in the plan's order, each
  // after the one before answers ready, then waits until the stack serves
  // (the store has a primary, every LB passes a request to an instance,
  // every DNS server names every LB). An error names the component and
  // ends with its log's tail; what was started keeps running (call stop_all).
  boost::asio::awaitable<core::Result<void>> start_all();

  // Starts one component again (after a kill) and waits until it is ready.
  // Once stop_all() has begun, neither this nor start_all() starts anything.
  boost::asio::awaitable<core::Result<void>> restart(const std::string& name);

  // Polls every kPollInterval until stop_all() (run it co_spawned).
  boost::asio::awaitable<void> watch();

  // Stops every running component, last started first: SIGCONT for a hung
  // one, SIGTERM, SIGKILL after kStopGrace.
  boost::asio::awaitable<void> stop_all();

  // {"role":"up", "components":[...], "proxies":{...}, "events":[...]}: the stack's /status.
  std::string status_json() const;
  // failover_up_component_* gauges and counters, per component.
  void metrics(core::MetricsWriter& w) const;

  // Records an event (the drill adds its faults).
  void note(const std::string& component, std::string what);

 private:
  boost::asio::awaitable<core::Result<void>> wait_ready(const std::string& name);
  boost::asio::awaitable<core::Result<void>> wait_serving();
  // 200, and a body holding every one of `must_contain`.
  boost::asio::awaitable<bool> get_ok(const std::string& host_port, const std::string& target,
                                      const std::vector<std::string>& must_contain = {});
  boost::asio::awaitable<void> poll(std::size_t index);
  void reap();
  void count_requests(ComponentView& v, std::optional<RequestCounts> now_counts);
  std::size_t index_of(const std::string& name) const;
  std::chrono::milliseconds since_start() const;

  boost::asio::any_io_executor executor_;
  ClusterConfig config_;
  const core::Clock& clock_;
  core::TimePoint made_;
  Launcher launcher_;
  std::vector<ComponentView> views_;
  std::vector<bool> polling_;  // a poll of that component is in flight
  std::deque<StackEvent> events_;
  std::shared_ptr<net::HttpClient> http_;
  std::vector<std::unique_ptr<FaultProxy>> proxies_;
  ProxyAdmin proxy_admin_;
  bool stopping_ = false;
};

}  // namespace failover::drill
