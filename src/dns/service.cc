#include "dns/service.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <map>
#include <spdlog/spdlog.h>
#include <thread>

#include "client/service_follower.h"
#include "core/config_error.h"
#include "core/fd_limit.h"
#include "dns/httpdns.h"
#include "dns/snapshot_cell.h"
#include "dns/status.h"
#include "dns/tcp_server.h"
#include "dns/udp_server.h"
#include "health/runner.h"
#include "net/endpoint.h"
#include "net/http_server.h"
#include "role/endpoints.h"
#include "role/runner.h"

namespace failover::dns {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

namespace {

// The control thread: the Zone and everything that changes it.
class Control {
 public:
  Control(asio::io_context& io, const DnsConfig& config, SnapshotCell& cell)
      : io_(io),
        clock_(core::SteadyClock::instance()),
        // SOA serials start from the wall clock, so they grow across restarts.
        zone_(config, clock_.now(), static_cast<std::uint32_t>(std::time(nullptr))),
        cell_(cell) {
    cell_.publish(published_);
  }

  void start() {
    for (const NameHealth& n : zone_.names()) {
      sync_probes(n);
      if (n.config.discovery) follow(n.config);
    }
  }

  HttpResponse httpdns(const HttpRequest& req) {
    const core::Result<HttpdnsQuery> p = parse_httpdns_query(req.query, zone_.config().max_hosts_per_query);
    if (!p.ok()) {
      ++stats_.bad_request;
      return HttpResponse::error(400, p.error().message);
    }
    if (!zone_.config().secret.empty()) {
      if (std::string why = check_signature(zone_.config().secret, *p, std::time(nullptr)); !why.empty()) {
        ++stats_.forbidden;
        return HttpResponse::error(403, why);
      }
    }
    HttpdnsReply r = httpdns_reply(*published_, *p);
    ++(r.status == 200 ? stats_.ok : stats_.not_found);
    return HttpResponse::json(r.status, std::move(r.body));
  }

  std::string status() const { return status_json(zone_, *published_, clock_.now()); }
  void metrics(core::MetricsWriter& w, const UdpServer* udp, const QueryStats& tcp,
               const TcpConnectionStats& connections) const {
    std::vector<const QueryStats*> u;
    if (udp)
      for (const auto& s : udp->stats()) u.push_back(s.get());
    dns::metrics(w, zone_, u, tcp, connections, stats_);
  }

 private:
  using ProbeKey = std::pair<std::string, std::string>;  // name, target key

  void publish() {
    published_ = zone_.snapshot();
    cell_.publish(published_);
  }

  // Feeds a probe result to the zone; returns the target's health for the
  // probe loop's schedule.
  const health::Target& on_probe(const std::string& name, const std::string& key, const health::ProbeResult& r) {
    const Observed o = zone_.observe(name, key, r, clock_.now());
    if (o.change == health::Change::kDown)
      spdlog::warn("{}: target {} is DOWN: {} failed checks in a row, last: {}{}", name, key, o.streak,
                   health::cause_name(r.cause), r.detail.empty() ? "" : " (" + r.detail + ")");
    else if (o.change == health::Change::kUp)
      spdlog::info("{}: target {} is UP: {} passing checks in a row", name, key, o.streak);
    log_all_down(name, o);
    if (o.answer_changed) publish();
    if (const TargetHealth* t = zone_.find_target(name, key)) return t->health;
    // Gone meanwhile (its loop is stopped already): any schedule will do.
    static const health::Target gone(health::CheckConfig{}, core::TimePoint{});
    return gone;
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
      it->second.request_stop();
      it = probes_.erase(it);
    }
    for (const TargetHealth& t : n.targets) {
      const ProbeKey key{n.config.name, t.target.key()};
      if (probes_.contains(key)) continue;
      boost::system::error_code ec;
      const asio::ip::tcp::endpoint ep(asio::ip::make_address(t.target.ip, ec), t.target.port);
      asio::co_spawn(io_,
                     health::run_checks(clock_, n.config.check, health::probe_endpoint(ep, n.config.check),
                                        [this, key](const health::ProbeResult& r) -> const health::Target& {
                                          return on_probe(key.first, key.second, r);
                                        },
                                        probes_[key].get_token(), health::random_phase()),
                     asio::detached);
    }
  }

  void follow(const DomainConfig& d) {
    auto registry = std::make_shared<client::RegistryClient>(io_.get_executor(), d.discovery->registry,
                                                             d.discovery->token,
                                                             client::RegistryClientOptions{.clock = &clock_});
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
      const Observed o = zone_.set_targets(name, std::move(targets), clock_.now());
      if (!o.answer_changed) return;
      spdlog::info("{}: {} targets with the registry's (index {}{})", name, count, st.index,
                   st.protected_mode ? ", protected" : "");
      log_all_down(name, o);
      for (const NameHealth& n : zone_.names())
        if (n.config.name == name) sync_probes(n);
      publish();
    };
    asio::co_spawn(io_, client::follow_service(clock_, *registry, d.discovery->service, {}, on_result),
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
  const core::Clock& clock_;
  Zone zone_;
  SnapshotCell& cell_;
  std::shared_ptr<const ZoneSnapshot> published_ = zone_.snapshot();
  std::map<ProbeKey, std::stop_source> probes_;  // one probe loop per checked target
  HttpdnsStats stats_;
};

// Each TCP connection holds a descriptor. When the limit is lower than
// max_connections, accept fails first; the server then closes idle
// connections as it does at its own limit, but the operator should know
// that the configured limit is not the one in effect.
void warn_if_few_descriptors(const TcpLimits& tcp) {
  constexpr std::uint64_t kOtherDescriptors = 64;  // listeners, probes, registry watches, HTTP clients
  const std::uint64_t limit = core::raise_fd_limit();
  if (limit < tcp.max_connections + kOtherDescriptors)
    spdlog::warn("descriptor limit {} is below tcp.max_connections {} + {}: fewer TCP connections will be held "
                 "(raise `ulimit -n` or LimitNOFILE)", limit, tcp.max_connections, kOtherDescriptors);
}

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
  asio::io_context io{1};
  role::Runner runner(io, "dns");
  SnapshotCell cell;
  Control control(io, config, cell);
  QueryStats tcp_stats;
  TcpConnectionStats tcp_connections;
  std::unique_ptr<UdpServer> udp;

  const int threads = config.threads > 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  if (!config.dns_listen.empty()) warn_if_few_descriptors(config.tcp);
  if (!config.dns_listen.empty() && !runner.listen(config.dns_listen, [&] {
        udp = std::make_unique<UdpServer>(config.dns_listen, threads, cell);
        serve_dns_tcp(io, *net::resolve_endpoint(config.dns_listen), cell, config.tcp, tcp_stats, tcp_connections);
      }))
    return role::kExitListenError;

  const role::Endpoints endpoints{
      .status = [&] { return control.status(); },
      .metrics = [&](core::MetricsWriter& w) { control.metrics(w, udp.get(), tcp_stats, tcp_connections); }};
  auto handler = [&](HttpRequest req) -> asio::awaitable<HttpResponse> {
    if (req.method != "GET" && req.method != "HEAD")
      co_return HttpResponse::error(405, "only GET and HEAD are served here");
    if (req.path == "/d") co_return control.httpdns(req);
    if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
    co_return HttpResponse::error(404, "no such path (try /d?host=NAME, /status, /metrics)");
  };
  if (!runner.listen(config.http_listen,
                     [&] { net::serve_http(io, *net::resolve_endpoint(config.http_listen), handler); }))
    return role::kExitListenError;
  control.start();
  if (udp) udp->start();
  spdlog::info("failover dns {} serving {} names: HTTPDNS on {}, DNS on {} ({} UDP threads)", FAILOVER_VERSION,
               config.domains.size(), config.http_listen, config.dns_listen.empty() ? "-" : config.dns_listen,
               udp ? threads : 0);
  const int status = runner.run();
  if (udp) udp->stop();
  return status;
}

}  // namespace failover::dns
