// `failover resolve HOST` and `failover get URL`: the resolver library
// (src/client/resolver.h, src/client/http_get.h) from the command line, as
// curl would use it.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "client/http_get.h"
#include "client/httpdns_reply.h"
#include "client/resolver.h"
#include "core/units.h"
#include "net/endpoint.h"

namespace failover::cli {

namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// curl's exit codes, so scripts written for curl read these the same way.
constexpr int kExitBadArgs = 2;
constexpr int kExitCouldNotResolve = 6;
constexpr int kExitCouldNotConnect = 7;
constexpr int kExitHttpError = 22;  // only with --fail
constexpr int kExitTimeout = 28;
constexpr int kExitEmptyReply = 52;
constexpr int kExitRecvError = 56;

// Everything is read as text and checked here, so that a bad value is one
// clear message and exit status 2, as for every other bad argument.
struct Args {
  std::string target;  // HOST or URL
  std::string httpdns, secret, cache, dns_server;
  std::string max_retries = "2", timeout = "1s", httpdns_timeout = "1s", max_stale = "1h",
              dns_timeout = "2s", read_timeout = "30s";
  bool fail = false;
};

void add_options(CLI::App* sub, Args& a, bool get) {
  sub->add_option("--httpdns", a.httpdns, "HTTPDNS servers, host:port[,host:port...] (required)");
  sub->add_option("--secret", a.secret, "sign requests: t=expiry, s=HMAC-SHA256(secret, host + t)");
  sub->add_option("--cache", a.cache, "persisted cache file: read at start, written after every HTTPDNS answer");
  sub->add_option("--max-stale", a.max_stale, "use an answer this long past its TTL while refreshing (default 1h)");
  sub->add_option("--httpdns-timeout", a.httpdns_timeout, "per HTTPDNS server (default 1s)");
  sub->add_option("--dns-server", a.dns_server, "system fallback DNS servers, ip[:port][,...] (default: /etc/resolv.conf)");
  sub->add_option("--dns-timeout", a.dns_timeout, "system fallback, in all (default 2s)");
  if (!get) return;
  sub->add_option("--max-retries", a.max_retries, "IPs tried after the first (default 2)");
  sub->add_option("--timeout", a.timeout, "connect timeout per IP (default 1s)");
  sub->add_option("--read-timeout", a.read_timeout, "waiting for response bytes (default 30s)");
  sub->add_flag("-f,--fail", a.fail, "exit 22 without printing the body on HTTP status >= 400");
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// The resolver's options from the arguments; an error message or "".
std::string to_options(const Args& a, bool get, client::ResolverOptions& o) {
  o.httpdns = split_list(a.httpdns);
  if (o.httpdns.empty()) return "--httpdns ADDR[,ADDR] is required";
  for (const auto& s : o.httpdns)
    if (!net::split_host_port(s)) return "bad --httpdns address \"" + s + "\" (expected host:port)";
  o.secret = a.secret;
  o.cache_file = a.cache;
  o.dns_servers = split_list(a.dns_server);
  const std::pair<const std::string*, milliseconds*> durations[] = {
      {&a.max_stale, &o.max_stale}, {&a.httpdns_timeout, &o.request_timeout},
      {&a.dns_timeout, &o.system_timeout}, {&a.timeout, &o.connect_timeout}};
  const char* names[] = {"--max-stale", "--httpdns-timeout", "--dns-timeout", "--timeout"};
  for (std::size_t i = 0; i < std::size(durations); ++i) {
    const auto d = core::parse_duration(*durations[i].first);
    if (!d || (i > 0 && d->count() == 0))
      return std::string("bad ") + names[i] + " \"" + *durations[i].first + "\" (e.g. 500ms, 2s, 1m)";
    *durations[i].second = *d;
  }
  const auto& n = a.max_retries;
  if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos)
    return "bad --max-retries \"" + n + "\" (an integer 0..999)";
  o.max_retries = std::stoi(n);
  return {};
}

// Runs `work` on a fresh io_context to its end; exceptions are bugs here.
template <class F>
int run_io(F work) {
  asio::io_context io;
  int rc = 1;
  asio::co_spawn(io, work(io), [&](std::exception_ptr e, int r) {
    rc = r;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "failover: " << ex.what() << '\n';
        rc = 1;
      }
    }
  });
  io.run();
  return rc;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

void report_resolution(std::string_view host, const client::Resolution& r) {
  for (const auto& f : r.failures) std::cerr << "* httpdns failed: " << f << '\n';
  std::cerr << "* resolved " << host << " via " << r.describe() << ": " << join(r.ips)
            << (r.ips.empty() || r.ipsv6.empty() ? "" : " ") << join(r.ipsv6) << '\n';
}

// How long the CLI lets a started background refresh run before exiting,
// so that the persisted file gets the new answer.
milliseconds settle_time(const client::ResolverOptions& o) {
  return o.request_timeout * static_cast<int>(o.httpdns.size()) + milliseconds(200);
}

asio::awaitable<int> resolve_main(asio::io_context& io, client::ResolverOptions options, std::string host) {
  client::Resolver resolver(io.get_executor(), options);
  if (!resolver.cache_file_error().empty())
    std::cerr << "* cache file not used: " << resolver.cache_file_error() << '\n';
  const auto found = co_await resolver.resolve(host);
  if (!found) {
    // The message names every HTTPDNS server's failure.
    std::cerr << "failover resolve: " << found.error().message << '\n';
    co_return kExitCouldNotResolve;
  }
  const client::Resolution& r = *found;
  report_resolution(host, r);
  client::HostAnswer answer{r.ips, r.ipsv6, r.ttl};
  std::cout << client::format_httpdns_reply(r.host, answer, r.ttl) << std::endl;
  std::cerr << "* source: " << r.describe() << '\n';
  co_await resolver.settle(settle_time(options));
  co_return 0;
}

asio::awaitable<int> get_main(asio::io_context& io, client::ResolverOptions options, client::HttpGetRequest request,
                              bool fail_on_error) {
  client::Resolver resolver(io.get_executor(), options);
  if (!resolver.cache_file_error().empty())
    std::cerr << "* cache file not used: " << resolver.cache_file_error() << '\n';
  request.user_agent = std::string("failover/") + FAILOVER_VERSION;
  const std::string host = request.host;
  int no_reply_exit = kExitCouldNotConnect;  // 52 once a server closed before replying
  client::HttpGetObserver show;
  show.resolved = [&](const client::Resolution& r) { report_resolution(host, r); };
  show.attempt_failed = [&](const std::string& where, const std::string& why, bool connected) {
    std::cerr << "* tried " << where << ": " << why << '\n';
    if (connected) no_reply_exit = kExitEmptyReply;
  };
  show.connected = [](const std::string& where) { std::cerr << "* connected to " << where << '\n'; };
  show.head = [&](const std::string& where, int status) {
    std::cerr << "* served by " << where << ": HTTP " << status << '\n';
    return !(fail_on_error && status >= 400);
  };
  show.body = [](std::string_view piece) { std::fwrite(piece.data(), 1, piece.size(), stdout); };
  const core::Result<int> status = co_await client::http_get(resolver, std::move(request), show);
  std::fflush(stdout);
  if (!status) {
    std::cerr << "failover get: " << status.error().message << '\n';
    switch (status.error().code) {
      case core::ErrorCode::kNotFound: co_return kExitCouldNotResolve;
      case core::ErrorCode::kUnavailable: co_return no_reply_exit;
      case core::ErrorCode::kTimeout: co_return kExitTimeout;
      default: co_return kExitRecvError;
    }
  }
  if (fail_on_error && *status >= 400) {
    std::cerr << "failover get: the server answered " << *status << '\n';
    co_return kExitHttpError;
  }
  co_await resolver.settle(settle_time(options));
  co_return 0;
}

// Shared by both commands: checks, builds options, runs. `main_fn` gets the
// io_context and the options.
template <class F>
int run_command(const char* name, CLI::App* sub, const Args& a, bool get, F main_fn) {
  auto bad = [&](const std::string& why) {
    std::cerr << "failover " << name << ": " << why << '\n';
    return kExitBadArgs;
  };
  if (!sub->remaining().empty()) return bad("unknown argument \"" + sub->remaining().front() + "\"");
  if (a.target.empty()) return bad(get ? "a URL is required: failover get http://HOST/PATH --httpdns ADDR"
                                       : "a HOST is required: failover resolve HOST --httpdns ADDR");
  client::ResolverOptions options;
  if (auto why = to_options(a, get, options); !why.empty()) return bad(why);
  try {
    // Construct once here so that a bad --dns-server is exit 2, not a crash later.
    asio::io_context probe;
    client::Resolver check(probe.get_executor(), options);
  } catch (const std::invalid_argument& e) {
    return bad(e.what());
  }
  return run_io([&](asio::io_context& io) { return main_fn(io, options); });
}

}  // namespace

Run resolve_options(CLI::App& app) {
  CLI::App* sub = &app;
  auto a = std::make_shared<Args>();
  sub->add_option("host", a->target, "the name to resolve");
  add_options(sub, *a, false);
  sub->allow_extras();
  return [sub, a]() -> int {
            return run_command("resolve", sub, *a, false, [&](asio::io_context& io, client::ResolverOptions o) {
              return resolve_main(io, std::move(o), a->target);
            });
          };
}

Run get_options(CLI::App& app) {
  CLI::App* sub = &app;
  auto a = std::make_shared<Args>();
  sub->add_option("url", a->target, "http://HOST[:PORT]/PATH");
  add_options(sub, *a, true);
  sub->allow_extras();
  return [sub, a]() -> int {
            std::optional<client::HttpGetRequest> url;
            if (!a->target.empty()) {
              auto parsed = client::parse_get_url(a->target);
              if (!parsed) {
                std::cerr << "failover get: " << parsed.error().message << '\n';
                return kExitBadArgs;
              }
              url = std::move(*parsed);
            }
            const auto read_timeout = core::parse_duration(a->read_timeout);
            if (!read_timeout || read_timeout->count() == 0) {
              std::cerr << "failover get: bad --read-timeout \"" << a->read_timeout << "\"\n";
              return kExitBadArgs;
            }
            return run_command("get", sub, *a, true, [&](asio::io_context& io, client::ResolverOptions o) {
              client::HttpGetRequest request = *url;
              request.read_timeout = *read_timeout;
              return get_main(io, std::move(o), std::move(request), a->fail);
            });
          };
}

}  // namespace failover::cli
