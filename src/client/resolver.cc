#include "client/resolver.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <random>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <unordered_map>

#include "client/httpdns_reply.h"
#include "client/resolver_cache.h"
#include "client/resolver_cache_file.h"
#include "client/resolver_policy.h"
#include "client/system_resolver.h"
#include "core/async_event.h"
#include "net/endpoint.h"
#include "net/http_client.h"

namespace failover::client {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The server's {"error":"..."}, else the start of the body.
std::string message_of(const net::ClientResponse& res) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(res.body, ec);
  if (!ec && v.is_object())
    if (const auto* e = v.as_object().if_contains("error"); e && e->is_string())
      return std::string(e->as_string());
  return res.body.substr(0, 200);
}

// What one round over the HTTPDNS servers found.
struct Fetch {
  bool ok = false;
  HostAnswer answer;
  std::string server;
  std::vector<std::string> failures;
};

// A fetch in progress for one host; lookups that miss meanwhile wait on it
// instead of asking the servers again (single flight): until `done`, or
// until `bound` on the resolver's clock should the fetch never end.
struct Flight {
  Flight(const asio::any_io_executor& ex, core::TimePoint b) : done(ex), bound(b) {}
  core::OneShotEvent done;
  core::TimePoint bound;
  std::optional<Fetch> result;
};

// Waits until `flight` ends or `until` passes on `clock`, whichever is first.
asio::awaitable<void> wait_for_flight(const core::Clock& clock, Flight& flight, core::TimePoint until) {
  using namespace asio::experimental::awaitable_operators;
  // Named operands: GCC 12 mishandles some temporaries in a co_await expression.
  auto ended = flight.done.wait();
  auto expired = clock.sleep_until(until);
  co_await (std::move(ended) || std::move(expired));
}

seconds ceil_seconds(milliseconds ms) { return std::chrono::ceil<seconds>(ms); }

}  // namespace

const char* source_name(Source source) {
  switch (source) {
    case Source::kHttpdns: return "httpdns";
    case Source::kCache: return "cache";
    case Source::kPersisted: return "persisted";
    case Source::kSystem: return "system";
    case Source::kLiteral: return "literal";
  }
  return "unknown";
}

std::string Resolution::describe() const {
  std::string out;
  switch (source) {
    case Source::kHttpdns: out = "httpdns " + server; break;
    case Source::kCache: out = "cache (from httpdns " + server + ")"; break;
    case Source::kPersisted: out = "persisted"; break;
    case Source::kSystem: out = "system (c-ares)"; break;
    case Source::kLiteral: out = "literal"; break;
  }
  if (stale) out = "stale " + out + ", refreshing";
  return out;
}

struct Resolver::Impl {
  Impl(asio::any_io_executor ex, ResolverOptions opts)
      : executor(ex),
        options(std::move(opts)),
        // The HTTPDNS deadline is the resolver's clock's, as the connect deadline is.
        http(ex, {}, options.clock ? *options.clock : core::SteadyClock::instance()),
        cache({options.max_stale, options.refresh_retry}),
        rotation(options.httpdns.size(), options.server_backoff),
        rng(options.seed ? options.seed : std::random_device{}()),
        system(std::make_shared<const SystemResolver>(options.dns_servers, options.system_timeout)) {
    if (options.httpdns.empty()) throw std::invalid_argument("resolver: no HTTPDNS server given");
    for (const auto& s : options.httpdns)
      if (!net::split_host_port(s)) throw std::invalid_argument("resolver: bad HTTPDNS address \"" + s + "\"");
    if (options.max_retries < 0) throw std::invalid_argument("resolver: max_retries must be >= 0");
    if (!options.clock) throw std::invalid_argument("resolver: no clock");
    load_cache_file();
  }

  void load_cache_file() {
    if (options.cache_file.empty()) return;
    const auto text = read_small_file(options.cache_file, kMaxCacheFileSize);
    if (!text) {
      cache_error = text.error().message;
      return;
    }
    if (!*text) return;  // no file yet: a first start
    const auto parsed = parse_cache_file(**text);
    if (!parsed) {
      cache_error = options.cache_file + ": " + parsed.error().message;
      return;
    }
    cache.load(*parsed, options.clock->now(), unix_now_ms());
  }

  void persist() {
    if (options.cache_file.empty()) return;
    const auto text = serialize_cache_file(cache.to_persist(options.clock->now(), unix_now_ms()));
    if (const auto written = write_file_atomically(options.cache_file, text); !written)
      spdlog::warn("resolver: cannot persist the cache: {}", written.error().message);
  }

  // Registers the flight before any suspension, so that a lookup that runs
  // between now and the fetch's first co_await finds it.
  std::shared_ptr<Flight> start_flight(const std::string& host) {
    const auto bound = options.request_timeout * static_cast<int>(options.httpdns.size()) + milliseconds(1'000);
    auto f = std::make_shared<Flight>(executor, options.clock->now() + bound);
    flights[host] = f;
    return f;
  }

  static asio::awaitable<Fetch> ask_servers(std::shared_ptr<Impl> self, std::string host);
  static asio::awaitable<Fetch> run_flight(std::shared_ptr<Impl> self, std::string host,
                                           std::shared_ptr<Flight> flight);
  static asio::awaitable<core::Result<Resolution>> resolve(std::shared_ptr<Impl> self, std::string host);
  static asio::awaitable<core::Result<Connection>> connect(std::shared_ptr<Impl> self, std::string host,
                                                           std::uint16_t port, std::vector<std::string> avoid,
                                                           ConnectObserver observer);
  static asio::awaitable<core::Result<SystemAnswer>> ask_system(std::shared_ptr<Impl> self, std::string host);

  asio::any_io_executor executor;
  ResolverOptions options;
  net::HttpClient http;
  ResolverCache cache;
  ServerRotation rotation;
  std::mt19937_64 rng;
  std::shared_ptr<const SystemResolver> system;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
  std::string cache_error;
  // c-ares blocks; a thread of its own keeps the io thread free. Declared
  // last so it is joined first, while everything else is still there.
  asio::thread_pool system_thread{1};
};

asio::awaitable<Fetch> Resolver::Impl::ask_servers(std::shared_ptr<Impl> self, std::string host) {
  Fetch out;
  const auto& o = self->options;
  for (const std::size_t idx : self->rotation.order(o.clock->now())) {
    const std::string& server = o.httpdns[idx];
    net::ClientRequest req;
    req.target = httpdns_target(host, o.secret, unix_now_ms() / 1000 + o.signature_ttl.count());
    auto res = co_await self->http.request(server, std::move(req), o.request_timeout);
    if (res.is(core::ErrorCode::kCancelled)) {
      out.failures.push_back(server + ": cancelled");
      co_return out;
    }
    std::string why;
    bool server_fault = true;  // a 4xx is the server's answer, not its failure
    if (!res) {
      why = res.error().message;
    } else if (res->status == 200) {
      const auto reply = parse_httpdns_reply(res->body);
      const HostReply* entry = reply ? find_host(*reply, host) : nullptr;
      if (!reply) why = "bad reply: " + reply.error().message;
      else if (!entry) why = "reply without " + host;
      else if (!entry->answer) why = entry->answer.error().message;  // an empty answer is a failure, not "no IPs"
      else {
        self->rotation.succeeded(idx);
        out.ok = true;
        out.answer = *entry->answer;
        out.server = server;
        co_return out;
      }
    } else {
      why = std::to_string(res->status) + " " + message_of(*res);
      server_fault = res->status >= 500;
    }
    out.failures.push_back(server + ": " + why);
    if (server_fault) self->rotation.failed(idx, o.clock->now());
  }
  co_return out;
}

asio::awaitable<Fetch> Resolver::Impl::run_flight(std::shared_ptr<Impl> self, std::string host,
                                                  std::shared_ptr<Flight> flight) {
  auto fetch = co_await ask_servers(self, host);
  const auto now = self->options.clock->now();
  if (fetch.ok) {
    self->cache.stored(host, fetch.answer, fetch.server, now);
    self->persist();
  } else {
    self->cache.fetch_failed(host, now);
  }
  flight->result = fetch;
  if (auto it = self->flights.find(host); it != self->flights.end() && it->second == flight)
    self->flights.erase(it);
  flight->done.set();
  co_return fetch;
}

asio::awaitable<core::Result<SystemAnswer>> Resolver::Impl::ask_system(std::shared_ptr<Impl> self,
                                                                       std::string host) {
  // Only the SystemResolver goes to the other thread, never the Impl.
  auto job = [system = self->system, host]() -> asio::awaitable<core::Result<SystemAnswer>> {
    co_return system->resolve(host);
  };
  auto answer = co_await asio::co_spawn(self->system_thread.get_executor(), std::move(job), asio::use_awaitable);
  co_return answer;
}

// Every co_return converts a named Resolution in a statement of its own: GCC
// 12 destroys a local converted inside `co_return` twice.
asio::awaitable<core::Result<Resolution>> Resolver::Impl::resolve(std::shared_ptr<Impl> self, std::string raw) {
  Resolution r;
  std::string_view literal = raw;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') literal = literal.substr(1, literal.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(literal), ec);
  if (!ec) {
    r.host = address.to_string();
    (address.is_v4() ? r.ips : r.ipsv6).push_back(r.host);
    r.source = Source::kLiteral;
    core::Result<Resolution> literal_answer = std::move(r);
    co_return literal_answer;
  }
  r.host = normalize_host(raw);
  // No server could have an answer for it: not found, as for any unknown name.
  if (!valid_host_name(r.host)) co_return core::Error::not_found("bad host name \"" + raw.substr(0, 300) + "\"");
  const auto look = self->cache.lookup(r.host, self->options.clock->now());
  if (look.cached) {
    r.ips = look.cached->answer.ips;
    r.ipsv6 = look.cached->answer.ipsv6;
    r.server = look.cached->server;
    r.source = look.cached->persisted ? Source::kPersisted : Source::kCache;
    r.stale = look.freshness == Freshness::kStale;
    r.ttl = r.stale ? seconds(0) : ceil_seconds(look.ttl_left);
    if (look.fetch)  // stale: hand it out now, refresh behind the caller's back
      asio::co_spawn(self->executor, run_flight(self, r.host, self->start_flight(r.host)), asio::detached);
    core::Result<Resolution> cached = std::move(r);
    co_return cached;
  }

  Fetch fetch;
  if (look.fetch) {
    fetch = co_await run_flight(self, r.host, self->start_flight(r.host));
  } else if (auto it = self->flights.find(r.host); it != self->flights.end()) {
    auto flight = it->second;
    co_await wait_for_flight(*self->options.clock, *flight, flight->bound);
    fetch = flight->result.value_or(Fetch{false, {}, {}, {"waited for another lookup of " + r.host + ", in vain"}});
  } else {  // marked as fetching with no flight: only if a fetch died; start again
    fetch = co_await run_flight(self, r.host, self->start_flight(r.host));
  }
  r.failures = fetch.failures;
  if (fetch.ok) {
    r.ips = fetch.answer.ips;
    r.ipsv6 = fetch.answer.ipsv6;
    r.ttl = fetch.answer.ttl;
    r.server = fetch.server;
    r.source = Source::kHttpdns;
    core::Result<Resolution> fetched = std::move(r);
    co_return fetched;
  }
  auto sys = co_await ask_system(self, r.host);
  if (!sys) {
    std::string servers;
    for (const auto& f : fetch.failures) servers += (servers.empty() ? "" : "; ") + f;
    co_return core::Error::not_found("could not resolve " + r.host + ": no HTTPDNS answer (" + servers + "), then " +
                                     sys.error().message);
  }
  r.ips = std::move(sys->ips);
  r.ipsv6 = std::move(sys->ipsv6);
  r.ttl = sys->ttl;
  r.source = Source::kSystem;
  core::Result<Resolution> system_answer = std::move(r);
  co_return system_answer;
}

asio::awaitable<core::Result<Connection>> Resolver::Impl::connect(std::shared_ptr<Impl> self, std::string host,
                                                                  std::uint16_t port, std::vector<std::string> avoid,
                                                                  ConnectObserver observer) {
  using namespace asio::experimental::awaitable_operators;
  auto resolution = co_await resolve(self, std::move(host));
  if (!resolution) co_return resolution.error();
  const Resolution& found = *resolution;
  if (observer.resolved) observer.resolved(found);
  std::vector<ConnectAttempt> failed;
  const auto budget = static_cast<std::size_t>(self->options.max_retries) + 1;
  const auto attempts = avoid.size() >= budget ? 0 : budget - avoid.size();
  const auto order = connect_order(found.ips, found.ipsv6, avoid, attempts, self->rng);
  for (const auto& ip : order) {
    const tcp::endpoint ep(asio::ip::make_address(ip), port);
    tcp::socket socket(self->executor);
    // The deadline is the clock's: a test's ManualClock decides it.
    // Named operands: GCC 12 mishandles some temporaries in a co_await expression.
    auto connecting = socket.async_connect(ep, kTuple);
    auto expiring = self->options.clock->sleep_for(self->options.connect_timeout);
    auto done = co_await (std::move(connecting) || std::move(expiring));
    std::string why;
    if (done.index() == 0) {
      auto [ec] = std::get<0>(done);
      if (!ec) {
        core::Result<Connection> connected = Connection{found, ip, std::move(failed), std::move(socket)};
        co_return connected;
      }
      why = ec.message();
    } else {
      why = "timed out after " + std::to_string(self->options.connect_timeout.count()) + "ms";
    }
    failed.push_back({ip, std::move(why)});
    if (observer.attempt_failed) observer.attempt_failed(failed.back());
  }
  if (!order.empty() && (found.source == Source::kCache || found.source == Source::kPersisted))
    self->cache.mark_stale(found.host, self->options.clock->now());
  co_return core::Error::unavailable(order.empty() ? "no IP of " + found.host + " left to try"
                                                   : "could not connect to " + found.host + " on any of " +
                                                         std::to_string(order.size()) + " IPs tried");
}

Resolver::Resolver(asio::any_io_executor executor, ResolverOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

Resolver::~Resolver() = default;

asio::awaitable<core::Result<Resolution>> Resolver::resolve(std::string host) {
  return Impl::resolve(impl_, std::move(host));
}

asio::awaitable<core::Result<Connection>> Resolver::connect(std::string host, std::uint16_t port,
                                                            std::vector<std::string> avoid, ConnectObserver observer) {
  return Impl::connect(impl_, std::move(host), port, std::move(avoid), std::move(observer));
}

asio::awaitable<void> Resolver::settle(milliseconds timeout) {
  auto self = impl_;
  const core::Clock& clock = *self->options.clock;
  const core::TimePoint deadline = clock.now() + timeout;
  while (!self->flights.empty() && clock.now() < deadline) {
    auto flight = self->flights.begin()->second;
    co_await wait_for_flight(clock, *flight, std::min(deadline, flight->bound));
    if (!flight->result) break;  // our limit or the flight's own bound passed first
  }
}

const std::string& Resolver::cache_file_error() const { return impl_->cache_error; }

const std::string& Resolver::current_server() const { return impl_->options.httpdns[impl_->rotation.current()]; }

}  // namespace failover::client
