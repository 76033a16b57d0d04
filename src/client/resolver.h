#pragma once
// An HTTPDNS resolver for applications (docs: ../shared/DESIGN.md, "DNS"):
// names to IPs through one or more `failover dns` HTTPDNS servers, and a
// connect() that fails over between the IPs of a name.
//
//   client::Resolver resolver(io.get_executor(), {.httpdns = {"127.0.0.1:8053"}});
//   auto c = co_await resolver.connect("www.example.com", 80);
//   if (c) use(std::move(c->socket));
//
// Where an answer comes from, in order:
//   1. the cache, while the answer's TTL lasts;
//   2. the cache, stale, for up to `max_stale` past the TTL, while one
//      background refresh per host fetches a new answer;
//   3. the HTTPDNS servers, the one that answered last first; a server that
//      fails (connection, timeout, 5xx, a bad or empty answer) is asked
//      again only after every other, for `server_backoff`;
//   4. only when no HTTPDNS server gave an answer: the system resolver
//      (c-ares; /etc/hosts, then resolv.conf or `dns_servers`). Its answers
//      are never cached or persisted: an HTTPDNS outage must not turn a
//      possibly hijacked local answer into the last-known-good one.
// With `cache_file` set, every HTTPDNS answer is written there (atomically)
// and read back at start, so a restart is not cold and a process that starts
// during an HTTPDNS outage still has the last-known-good answers (step 1 or 2).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace failover::client {

struct ResolverOptions {
  std::vector<std::string> httpdns;  // "127.0.0.1:8053", "[::1]:8053"; at least one
  std::string secret;                // non-empty: requests are signed (t, s)
  std::chrono::seconds signature_ttl{300};           // t = now + this
  std::chrono::milliseconds request_timeout{1'000};  // one HTTPDNS server
  std::chrono::milliseconds server_backoff{30'000};  // a failed server goes last this long
  std::chrono::milliseconds max_stale{3'600'000};    // stale answers, past the TTL
  std::chrono::milliseconds refresh_retry{1'000};    // after a failed background refresh
  std::chrono::milliseconds connect_timeout{1'000};  // one IP
  int max_retries = 2;           // connect(): IPs tried after the first, so 1 + this at most
  std::string cache_file;        // "": nothing persisted
  std::vector<std::string> dns_servers;  // system fallback; empty: /etc/resolv.conf
  std::chrono::milliseconds system_timeout{2'000};
  std::uint64_t seed = 0;        // the random IP order; 0: from std::random_device
  const core::Clock* clock = &core::SteadyClock::instance();  // cache expiry; must outlive the resolver
};

enum class Source {
  kHttpdns,    // just fetched from `server`
  kCache,      // an earlier answer of this process
  kPersisted,  // read from the cache file at start
  kSystem,     // the system resolver, after every HTTPDNS server failed
  kLiteral,    // the host was an IP address
};
const char* source_name(Source source);

struct Resolution {
  std::string host;                // as normalized: lower case, no trailing dot
  std::vector<std::string> ips;    // IPv4
  std::vector<std::string> ipsv6;
  std::chrono::seconds ttl{0};     // what is left of it (0 when stale)
  Source source = Source::kHttpdns;
  bool stale = false;              // past its TTL; a background refresh has been started or is pending
  std::string server;              // the HTTPDNS server it came from, if any
  // Every HTTPDNS server that failed on the way, "127.0.0.1:8053: connect: refused".
  std::vector<std::string> failures;

  // "httpdns 127.0.0.1:8053", "cache (from 127.0.0.1:8053)", "stale (persisted, 12s past ttl)", ...
  std::string describe() const;
};

// One IP that did not accept: what connect() tried and saw, data for a
// caller that shows progress.
struct ConnectAttempt {
  std::string ip;
  std::string why;  // "Connection refused", "timed out after 1000ms"
};

struct Connection {
  Resolution resolution;
  std::string ip;                        // the one connected to
  std::vector<ConnectAttempt> failed;    // those tried before, in order
  boost::asio::ip::tcp::socket socket;
};

// What connect() did on the way, for a caller that shows progress or must
// know it when connect() fails; each member may be left empty. Called on the
// resolver's thread, before connect() returns.
struct ConnectObserver {
  std::function<void(const Resolution&)> resolved;           // once the name resolved, before any connect
  std::function<void(const ConnectAttempt&)> attempt_failed;  // an IP refused or timed out; the next follows
};

// Bound to `executor`, whose io_context runs on one thread: every call must
// be made from that thread (not thread-safe). Calls may overlap. Background
// refreshes run on the same executor and keep the resolver's internals alive
// until they end, so the Resolver may be destroyed at any time. The system
// resolver blocks, so it runs on a thread of its own, one query at a time.
class Resolver {
 public:
  // Throws std::invalid_argument for options that cannot work (no HTTPDNS
  // server, a malformed address, a DNS server c-ares refuses). A cache file
  // that cannot be read is not fatal: the resolver starts cold and says why
  // in cache_file_error().
  Resolver(boost::asio::any_io_executor executor, ResolverOptions options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The IPs of `host`, by the order above. A host that is an IP address is
  // its own answer. kNotFound when no source had an answer (the message
  // names every HTTPDNS server's failure and the system resolver's), and for
  // a malformed host name, without any request.
  boost::asio::awaitable<core::Result<Resolution>> resolve(std::string host);

  // Resolves `host`, then connects to its IPs in random order (connect_order
  // in resolver_policy.h), each within connect_timeout, until one accepts or
  // 1 + max_retries were tried. `avoid`: IPs that already failed this
  // request at a higher level (e.g. reset before any response byte); they
  // are not tried and count against the attempts. When every IP tried of a
  // cached answer failed, that answer turns stale at once, so the next call
  // refreshes it (the servers may have dropped those IPs since). Errors:
  // resolve()'s, or kUnavailable when no IP tried accepted (or none was left
  // to try).
  boost::asio::awaitable<core::Result<Connection>> connect(std::string host, std::uint16_t port,
                                                           std::vector<std::string> avoid = {},
                                                           ConnectObserver observer = {});

  // Waits until no background refresh is running, or `timeout`. For short
  // processes (the CLI) that want a refreshed answer persisted before exit.
  boost::asio::awaitable<void> settle(std::chrono::milliseconds timeout);

  const std::string& cache_file_error() const;
  // The HTTPDNS server asked first next time.
  const std::string& current_server() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace failover::client
