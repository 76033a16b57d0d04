#include "dns/service.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <ctime>
#include <map>
#include <random>
#include <spdlog/spdlog.h>
#include <thread>

#include "client/service_follower.h"
#include "core/config_error.h"
#include "dns/httpdns.h"
#include "dns/snapshot_cell.h"
#include "dns/status.h"
#include "dns/tcp_server.h"
#include "dns/udp_server.h"
#include "health/probe.h"
#include "net/endpoint.h"
#include "net/http_server.h"

namespace failover::dns {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

namespace {

constexpr std::string_view kDashboard = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>failover dns</title>
<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}
.up{color:#070}.down{color:#b00}</style></head>
<body><h1>failover dns</h1><div id="s"></div><script>
async function tick(){const s=await (await fetch('/status')).json();
let h=`<p>serial ${s.serial}</p><table><tr><th>name</th><th>answer</th><th>target</th><th>state</th><th>why</th></tr>`;
for(const n of s.names){const a=n.answer?[...n.answer.ips,...n.answer.ipsv6].join(' '):'';
for(const t of n.targets)h+=`<tr><td>${n.name}${n.panic?' (panic)':''}</td><td>${a}</td><td>${t.target}</td>
<td class="${t.state}">${t.state}</td><td>${t.reason}</td></tr>`;}
document.getElementById('s').innerHTML=h+'</table>'}
tick();setInterval(tick,1000);</script></body></html>
)";

// The control thread: the Zone and everything that changes it.
class Control {
 public:
  Control(asio::io_context& io, const DnsConfig& config, SnapshotCell& cell)
      : io_(io), zone_(config, core::SteadyClock::instance()), cell_(cell) {
    cell_.publish(published_);
  }

  void start() {
    for (const NameHealth& n : zone_.names()) {
      sync_probes(n);
      if (n.config.discovery) follow(n.config);
    }
  }

  HttpResponse httpdns(const HttpRequest& req) {
    HttpdnsParse p = parse_httpdns_query(req.query, zone_.config().max_hosts_per_query);
    if (!p.ok()) {
      ++stats_.bad_request;
      return HttpResponse::error(400, p.error);
    }
    if (!zone_.config().secret.empty()) {
      if (std::string why = check_signature(zone_.config().secret, p.query, std::time(nullptr)); !why.empty()) {
        ++stats_.forbidden;
        return HttpResponse::error(403, why);
      }
    }
    HttpdnsReply r = httpdns_reply(*published_, p.query);
    ++(r.status == 200 ? stats_.ok : stats_.not_found);
    return HttpResponse::json(r.status, std::move(r.body));
  }

  std::string status() const { return status_json(zone_, *published_, core::SteadyClock::instance().now()); }
  std::string metrics(const UdpServer* udp, const QueryStats& tcp) const {
    std::vector<const QueryStats*> u;
    if (udp)
      for (const auto& s : udp->stats()) u.push_back(s.get());
    return metrics_text(zone_, u, tcp, stats_);
  }

 private:
  using ProbeKey = std::pair<std::string, std::string>;  // name, target key

  void publish() {
    published_ = zone_.snapshot();
    cell_.publish(published_);
  }

  void on_probe(const std::string& name, const Target& target, const health::ProbeResult& r) {
    const Observed o = zone_.observe(name, target.key(), r);
    if (o.change == health::Change::kDown)
      spdlog::warn("{}: target {} is DOWN: {} failed checks in a row, last: {}{}", name, target.key(), o.streak,
                   health::cause_name(r.cause), r.detail.empty() ? "" : " (" + r.detail + ")");
    else if (o.change == health::Change::kUp)
      spdlog::info("{}: target {} is UP: {} passing checks in a row", name, target.key(), o.streak);
    log_all_down(name, o);
    if (o.answer_changed) publish();
  }

  void log_all_down(const std::string& name, const Observed& o) {
    if (o.all_down_started)
      spdlog::error("{}: no healthy target; {}", name,
                    zone_.config().panic ? "PANIC: answering all of them" : "answering none (panic: false)");
    if (o.all_down_ended) spdlog::info("{}: a target is healthy again; panic over", name);
  }

  // Starts a probe loop for each target without one; stops those of targets gone.
  void sync_probes(const NameHealth& n) {
    if (!n.config.check.enabled) return;
    for (auto it = probes_.begin(); it != probes_.end();) {
      const bool stays = it->first.first != n.config.name ||
                         std::any_of(n.targets.begin(), n.targets.end(),
                                     [&](const TargetHealth& t) { return t.target.key() == it->first.second; });
      if (stays) { ++it; continue; }
      *it->second = true;
      it = probes_.erase(it);
    }
    for (const TargetHealth& t : n.targets) {
      auto& stopped = probes_[{n.config.name, t.target.key()}];
      if (stopped) continue;
      stopped = std::make_shared<bool>(false);
      asio::co_spawn(io_, probe_loop(n.config.name, t.target, n.config.check, stopped), asio::detached);
    }
  }

  asio::awaitable<void> probe_loop(std::string name, Target target, health::CheckConfig check,
                                   std::shared_ptr<bool> stopped) {
    boost::system::error_code ec;
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(target.ip, ec), target.port);
    asio::steady_timer timer(io_);
    // A random phase, so that several DNS nodes started together do not
    // probe in lock-step; then a fixed period keeps the detection bound
    // fall x interval + timeout.
    thread_local std::minstd_rand rng{std::random_device{}()};
    timer.expires_after(std::chrono::milliseconds(
        std::uniform_int_distribution<long long>(0, check.interval.count() / 2)(rng)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto next = std::chrono::steady_clock::now();
    while (!*stopped) {
      next += check.interval;
      const health::ProbeResult r = co_await health::probe(ep, check);
      if (*stopped) break;
      on_probe(name, target, r);
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;  // a probe that ran long must not make the next one late too
      timer.expires_at(next);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  void follow(const DomainConfig& d) {
    auto registry = std::make_shared<client::RegistryClient>(io_.get_executor(), d.discovery->registry,
                                                             d.discovery->token);
    const std::string name = d.name;
    auto on_result = [this, name, registry, fixed = d.targets](const client::ServiceResult& r) {
      if (!r.ok() && !r.is(core::ErrorCode::kNotFound)) {
        spdlog::warn("{}: registry query failed, keeping the targets: {}", name, r.error().message);
        return;
      }
      const client::ServiceState& st = client::state_of(r);
      std::vector<Target> targets = fixed;  // the config's own targets stay beside the registry's
      for (const client::ServiceInstance& i : st.instances) {
        // Unhealthy instances are listed only under the registry's
        // protection: then the checks here decide, as in the LB.
        if (!i.healthy && !st.protected_mode) continue;
        if (targets.size() == kMaxTargetsPerName) {
          spdlog::warn("{}: more than {} targets; the rest of the registry's are left out", name, kMaxTargetsPerName);
          break;
        }
        if (auto t = parse_target(i.address, static_cast<std::uint16_t>(i.port)); t && i.port > 0 && i.port < 65536)
          targets.push_back(std::move(*t));
        else
          spdlog::warn("{}: instance {} has an address that is not an IP: {}", name, i.id, i.address);
      }
      const std::size_t count = targets.size();
      const Observed o = zone_.set_targets(name, std::move(targets));
      if (!o.answer_changed) return;
      spdlog::info("{}: {} targets with the registry's (index {}{})", name, count, st.index,
                   st.protected_mode ? ", protected" : "");
      log_all_down(name, o);
      for (const NameHealth& n : zone_.names())
        if (n.config.name == name) sync_probes(n);
      publish();
    };
    asio::co_spawn(io_, client::follow_service(*registry, d.discovery->service, [] { return false; }, on_result),
                   [registry, name](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       spdlog::error("{}: stopped following the registry: {}", name, ex.what());
                     }
                   });
  }

  asio::io_context& io_;
  Zone zone_;
  SnapshotCell& cell_;
  std::shared_ptr<const ZoneSnapshot> published_ = zone_.snapshot();
  std::map<ProbeKey, std::shared_ptr<bool>> probes_;  // the stop flag of each probe loop
  HttpdnsStats stats_;
};

}  // namespace

DnsConfig load_config(const DnsRunOptions& o) {
  DnsConfig c = load_dns_config(o.config_path);
  if (o.http_listen) c.http_listen = *o.http_listen;
  if (o.dns_listen) c.dns_listen = *o.dns_listen;
  if (o.threads) c.threads = *o.threads;
  for (const std::string* a : {&c.http_listen, &c.dns_listen})
    if (!a->empty() && !net::resolve_endpoint(*a))
      throw core::ConfigError(c.source, 0, "cannot use address '" + *a + "' (want host:port)");
  return c;
}

int run(const DnsRunOptions& options) {
  const DnsConfig config = load_config(options);
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context io{1};
  SnapshotCell cell;
  Control control(io, config, cell);
  QueryStats tcp_stats;
  std::unique_ptr<UdpServer> udp;

  const int threads = config.threads > 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  try {
    if (!config.dns_listen.empty()) {
      udp = std::make_unique<UdpServer>(config.dns_listen, threads, cell);
      serve_dns_tcp(io, *net::resolve_endpoint(config.dns_listen), cell, tcp_stats);
    }
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}: {}", config.dns_listen, e.what());
    return 1;
  }

  auto handler = [&](HttpRequest req) -> asio::awaitable<HttpResponse> {
    if (req.method != "GET" && req.method != "HEAD")
      co_return HttpResponse::error(405, "only GET and HEAD are served here");
    if (req.path == "/d") co_return control.httpdns(req);
    if (req.path == "/status") co_return HttpResponse::json(200, control.status());
    if (req.path == "/metrics") {
      co_return HttpResponse::metrics(control.metrics(udp.get(), tcp_stats));
    }
    if (req.path == "/") {
      co_return HttpResponse::html(std::string(kDashboard));
    }
    co_return HttpResponse::error(404, "no such path (try /d?host=NAME, /status, /metrics)");
  };
  try {
    net::serve_http(io, *net::resolve_endpoint(config.http_listen), handler);
  } catch (const boost::system::system_error& e) {
    spdlog::critical("cannot listen on {}: {}", config.http_listen, e.what());
    return 1;
  }
  control.start();
  if (udp) udp->start();
  spdlog::info("failover dns {} serving {} names: HTTPDNS on {}, DNS on {} ({} UDP threads)", FAILOVER_VERSION,
               config.domains.size(), config.http_listen, config.dns_listen.empty() ? "-" : config.dns_listen,
               udp ? threads : 0);

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) spdlog::info("signal {}: stopping", sig);
    io.stop();
  });
  io.run();
  if (udp) udp->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace failover::dns
