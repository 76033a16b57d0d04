// One client connection of the proxy: read a request, pick a server, send it,
// stream the response back; on a failure before the response started, try
// another server. Reads top to bottom as a loop of co_awaits, each with a
// deadline.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "lb/control.h"
#include "lb/forward.h"
#include "lb/retry.h"
#include "lb/worker.h"

namespace failover::lb {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kRetainedBody = 64 * 1024;  // bodies up to this are kept for a retry
constexpr std::size_t kRelayBuffer = 16 * 1024;
constexpr std::uint32_t kMaxResponseHeader = 64 * 1024;

using Request = http::request<http::string_body>;
using ResponseParser = http::response_parser<http::buffer_body>;

struct Session {
  Worker& worker;
  beast::tcp_stream client;
  beast::flat_buffer buffer;
  std::string client_ip;
  std::unique_ptr<char[]> relay;  // allocated on the first response with a body
};

struct AttemptResult {
  Outcome outcome = Outcome::kOk;
  const char* cause = "ok";     // for passive detection and /status
  bool server_failed = false;   // counts toward the server's ejection
  bool client_done = false;     // the client got a response (or lost its connection)
  bool keep_client = false;     // ...and the connection may serve another request
};

core::TimePoint now() { return core::SteadyClock::instance().now(); }

asio::awaitable<void> send_error(Session& s, http::status status, std::string_view why,
                                 bool keep_alive) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::server, "failover");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::to_string(static_cast<int>(status)) + " " +
               std::string(http::obsolete_reason(status)) + ": " + std::string(why) + "\n";
  res.keep_alive(keep_alive);
  res.prepare_payload();
  s.client.expires_after(5s);
  co_await http::async_write(s.client, res, kTuple);
}

AttemptResult failed(Outcome o, const char* cause) { return {o, cause, true, false, false}; }

AttemptResult classify_exchange_error(const beast::error_code& ec, bool written) {
  if (ec == beast::error::timeout) return failed(Outcome::kTimeout, "timeout");
  if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message)
    return failed(Outcome::kBadResponse, "bad_response");
  return failed(Outcome::kFailedAfterSend, written ? "reset" : "send_failed");
}

// Copies bytes one way until either side closes; the other direction is
// cancelled by the || in tunnel().
asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
  std::array<char, kRelayBuffer> buf;
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kTuple);
    if (ec) break;
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kTuple);
    if (wec) break;
  }
  beast::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

// After a 101: the bytes each side already sent us go first, then both
// directions run until one closes.
asio::awaitable<void> tunnel(Session& s, UpstreamConn& conn) {
  using namespace asio::experimental::awaitable_operators;
  s.client.expires_never();
  conn.stream.expires_never();
  auto& client = s.client.socket();
  auto& server = conn.stream.socket();
  if (conn.buffer.size())
    co_await asio::async_write(client, conn.buffer.data(), kTuple);
  if (s.buffer.size())
    co_await asio::async_write(server, s.buffer.data(), kTuple);
  s.buffer.clear();
  conn.buffer.clear();
  co_await (pump(client, server) || pump(server, client));
}

// Streams the response whose header `rp` holds to the client, body chunk by
// chunk (Beast's relay pattern): nothing is buffered whole.
asio::awaitable<AttemptResult> relay_response(Session& s, UpstreamConn& conn, ResponseParser& rp,
                                              bool keep_client, const LimitsConfig& limits) {
  auto& res = rp.get();
  // A body delimited by the server closing cannot be framed for a
  // keep-alive client: the client connection closes after it too.
  if (!rp.is_done() && !rp.chunked() && !rp.content_length()) keep_client = false;
  prepare_client_response(res, keep_client);
  if (!s.relay) s.relay = std::make_unique<char[]>(kRelayBuffer);
  http::response_serializer<http::buffer_body> sr{res};
  s.client.expires_after(limits.response_timeout);
  auto [hec, hn] = co_await http::async_write_header(s.client, sr, kTuple);
  if (hec) co_return AttemptResult{Outcome::kOk, "ok", false, true, false};
  do {
    if (!rp.is_done()) {
      res.body().data = s.relay.get();
      res.body().size = kRelayBuffer;
      conn.stream.expires_after(limits.response_timeout);
      auto [ec, n] = co_await http::async_read(conn.stream, conn.buffer, rp, kTuple);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        // The status line is gone already: the client can only see the
        // connection close early, and the server is to blame.
        co_return AttemptResult{Outcome::kFailedAfterSend, "truncated", true, true, false};
      }
      res.body().size = kRelayBuffer - res.body().size;
      res.body().data = s.relay.get();
      res.body().more = !rp.is_done();
    } else {
      res.body().data = nullptr;
      res.body().size = 0;
    }
    s.client.expires_after(limits.response_timeout);
    auto [wec, wn] = co_await http::async_write(s.client, sr, kTuple);
    if (wec == http::error::need_buffer) wec = {};
    if (wec) co_return AttemptResult{Outcome::kOk, "ok", false, true, false};
  } while (!rp.is_done() && !sr.is_done());
  co_return AttemptResult{Outcome::kOk, "ok", false, true, keep_client};
}

// A fresh parser for one response: server headers may be larger than a
// client's, the body is streamed (no limit), and a HEAD reply has none.
void reset_parser(std::optional<ResponseParser>& rp, bool head) {
  rp.emplace();
  rp->header_limit(kMaxResponseHeader);
  rp->body_limit(boost::none);
  if (head) rp->skip(true);
}

struct Exchange {
  std::unique_ptr<UpstreamConn> conn;
  beast::error_code ec;
  bool written = false;
  const char* connect_cause = nullptr;  // set when the connection could not be made
};

// Connects (or reuses a pooled connection), sends the request and reads the
// response header, all before `deadline`. A pooled connection that turns out
// closed by the server before any reply is replaced by a fresh one once.
asio::awaitable<Exchange> exchange(Session& s, const ServerView& server, const UpstreamView& up,
                                   Request& req, std::optional<ResponseParser>& rp, core::TimePoint deadline,
                                   const LimitsConfig& limits) {
  Exchange x;
  x.conn = s.worker.pool().take(server, now(), limits.upstream_idle_timeout);
  for (int pass = 0; pass < 2; ++pass) {
    if (!x.conn) {
      if (up.max_connections_per_server > 0 &&
          server.stats->connections.load(std::memory_order_relaxed) >=
              static_cast<std::uint32_t>(up.max_connections_per_server)) {
        x.connect_cause = "busy";
        co_return x;
      }
      x.conn = std::make_unique<UpstreamConn>(beast::tcp_stream(s.worker.io()), server.stats);
      x.conn->stream.expires_at(deadline);
      auto [ec] = co_await x.conn->stream.async_connect(server.endpoint, kTuple);
      if (ec) {
        x.connect_cause = ec == beast::error::timeout                ? "connect_timeout"
                          : ec == asio::error::connection_refused ? "refused"
                                                                   : "connect_error";
        x.ec = ec;
        co_return x;
      }
      beast::error_code ignored;
      x.conn->stream.socket().set_option(tcp::no_delay(true), ignored);
    }
    x.conn->stream.expires_at(deadline);
    auto [wec, wn] = co_await http::async_write(x.conn->stream, req, kTuple);
    x.written = !wec;
    x.ec = wec;
    if (!wec) {
      auto [rec, rn] = co_await http::async_read_header(x.conn->stream, x.conn->buffer, *rp, kTuple);
      x.ec = rec;
    }
    const bool stale = x.ec && x.conn->reused && x.ec != beast::error::timeout &&
                       x.conn->buffer.size() == 0 && !rp->got_some();
    if (!stale || pass == 1 || !idempotent(req.method_string())) break;
    x.conn.reset();  // closed by the server while idle: not the server's failure
    reset_parser(rp, req.method() == http::verb::head);
  }
  co_return x;
}

asio::awaitable<AttemptResult> attempt(Session& s, const ServerView& server,
                                       const UpstreamView& up, Request& req,
                                       core::TimePoint deadline, bool may_retry_status,
                                       bool keep_client, bool upgrade, const LimitsConfig& limits) {
  std::optional<ResponseParser> parser;
  reset_parser(parser, req.method() == http::verb::head);
  Exchange x = co_await exchange(s, server, up, req, parser, deadline, limits);
  ResponseParser& rp = *parser;
  if (x.connect_cause) {
    AttemptResult r = failed(Outcome::kConnectFailed, x.connect_cause);
    r.server_failed = std::string_view(x.connect_cause) != "busy";
    co_return r;
  }
  if (x.ec) co_return classify_exchange_error(x.ec, x.written);
  UpstreamConn& conn = *x.conn;
  const unsigned status = rp.get().result_int();
  const bool gateway_error = status == 502 || status == 503 || status == 504;
  if (gateway_error && may_retry_status) {
    AttemptResult r = failed(Outcome::kRetryableStatus, status == 502   ? "status_502"
                                                        : status == 503 ? "status_503"
                                                                        : "status_504");
    co_return r;  // the connection closes: its body is not worth reading
  }
  if (upgrade && status == 101) {
    prepare_client_response(rp.get(), false);
    http::response_serializer<http::buffer_body> sr{rp.get()};
    s.client.expires_after(limits.response_timeout);
    auto [ec, n] = co_await http::async_write_header(s.client, sr, kTuple);
    if (!ec) co_await tunnel(s, conn);
    co_return AttemptResult{Outcome::kOk, "ok", false, true, false};
  }
  AttemptResult r = co_await relay_response(s, conn, rp, keep_client, limits);
  if (r.outcome == Outcome::kOk && gateway_error) {
    // Passed on as it is (no retry allowed), but still the server's failure.
    r.server_failed = true;
    r.cause = status == 502 ? "status_502" : status == 503 ? "status_503" : "status_504";
  }
  if (r.outcome == Outcome::kOk && rp.is_done() && rp.get().keep_alive() && r.client_done)
    s.worker.pool().put(server, std::move(x.conn), now());
  co_return r;
}

// Tries servers until one answers, the tries or the time run out, or the
// retry rules forbid another attempt. Returns whether the client connection
// stays open.
asio::awaitable<bool> proxy(Session& s, const UpstreamView& up, Request& req, bool keep_client,
                            bool upgrade, core::TimePoint started, const LimitsConfig& limits) {
  std::uint64_t tried = 0;
  const bool body_kept = req.body().size() <= kRetainedBody;
  Outcome last = Outcome::kConnectFailed;
  int tries = 0;
  std::vector<Candidate> candidates;
  candidates.reserve(up.serving.size());
  auto untried_left = [&] {
    for (auto id : up.serving) if (!(tried & (1ULL << id))) return true;
    return false;
  };
  while (tries < up.retry.tries) {
    candidates.clear();
    for (auto id : up.serving) {
      if (tried & (1ULL << id)) continue;
      const ServerView& sv = up.servers[id];
      candidates.push_back({id, sv.weight, sv.stats->active.load(std::memory_order_relaxed)});
    }
    if (candidates.empty()) break;
    const ServerView& server = up.servers[candidates[s.worker.balancer(up).pick(candidates)].id];
    tried |= 1ULL << server.id;
    ++tries;
    if (tries > 1) s.worker.shared().retries.fetch_add(1, std::memory_order_relaxed);

    const core::TimePoint t = now();
    const core::TimePoint deadline = std::min(t + up.retry.try_timeout, started + up.retry.timeout);
    auto elapsed = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(now() - started); };
    const bool may_retry_status = should_retry({req.method_string(), Outcome::kRetryableStatus, tries,
                                                up.retry.tries, body_kept, elapsed(),
                                                up.retry.timeout, untried_left()});
    server.stats->active.fetch_add(1, std::memory_order_relaxed);
    server.stats->total.fetch_add(1, std::memory_order_relaxed);
    AttemptResult r = co_await attempt(s, server, up, req, deadline, may_retry_status, keep_client,
                                       upgrade, limits);
    server.stats->active.fetch_sub(1, std::memory_order_relaxed);
    if (r.server_failed) {
      server.stats->failures.fetch_add(1, std::memory_order_relaxed);
      s.worker.report_failure(server, r.cause);
    }
    if (r.client_done) {
      server.stats->responses.fetch_add(1, std::memory_order_relaxed);
      co_return r.keep_client;
    }
    last = r.outcome;
    if (!should_retry({req.method_string(), r.outcome, tries, up.retry.tries, body_kept, elapsed(),
                       up.retry.timeout, untried_left()}))
      break;
  }
  if (tries == 0) {
    s.worker.shared().no_server.fetch_add(1, std::memory_order_relaxed);
    co_await send_error(s, http::status::service_unavailable,
                        "no server available in upstream " + up.name, keep_client);
  } else if (last == Outcome::kTimeout) {
    co_await send_error(s, http::status::gateway_timeout,
                        "no response from upstream " + up.name + " after " + std::to_string(tries) +
                            " tries", keep_client);
  } else {
    co_await send_error(s, http::status::bad_gateway,
                        "upstream " + up.name + " failed " + std::to_string(tries) + " tries",
                        keep_client);
  }
  co_return keep_client;
}

// Maps a failure to read a request to the status the client gets; 0: close
// without a word (the client went away or stayed idle).
http::status request_error_status(const beast::error_code& ec, bool got_bytes) {
  if (ec == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (ec == http::error::body_limit) return http::status::payload_too_large;
  if (ec == beast::error::timeout) return got_bytes ? http::status::request_timeout : http::status::unknown;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return http::status::unknown;
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) return http::status::bad_request;
  return http::status::unknown;
}

}  // namespace

asio::awaitable<void> client_session(Worker& worker, tcp::socket socket) {
  Session s{worker, beast::tcp_stream(std::move(socket)), {}, {}, {}};
  beast::error_code ec;
  s.client.socket().set_option(tcp::no_delay(true), ec);
  const auto remote = s.client.socket().remote_endpoint(ec);
  s.client_ip = ec ? "unknown" : remote.address().to_string();

  for (;;) {
    const std::shared_ptr<const Snapshot> snap = worker.snapshot();
    const LimitsConfig& limits = snap->limits;
    if (s.buffer.size() == 0) {
      // Idle between requests: closing quietly is not an error.
      if (worker.draining()) break;
      s.client.expires_after(limits.keepalive_timeout);
      worker.idle_begin(&s.client);
      auto [rec, n] = co_await s.client.async_read_some(s.buffer.prepare(4096), kTuple);
      worker.idle_end(&s.client);
      if (rec) break;
      s.buffer.commit(n);
    }
    const core::TimePoint started = now();
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_size));
    parser.body_limit(limits.max_body_size);
    s.client.expires_after(limits.header_timeout);
    auto [hec, hn] = co_await http::async_read_header(s.client, s.buffer, parser, kTuple);
    if (!hec && !parser.is_done()) {
      if (http::token_list(parser.get()[http::field::expect]).exists("100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(s.client, asio::buffer(kContinue), kTuple);
      }
      s.client.expires_after(limits.body_timeout);
      std::tie(hec, hn) = co_await http::async_read(s.client, s.buffer, parser, kTuple);
    }
    if (hec) {
      const http::status status = request_error_status(hec, true);
      if (status != http::status::unknown) co_await send_error(s, status, hec.message(), false);
      break;
    }
    worker.shared().requests.fetch_add(1, std::memory_order_relaxed);
    Request& req = parser.get();
    const bool keep_client = req.keep_alive() && !worker.draining();
    if (const char* why = request_framing_error(req, parser.chunked())) {
      co_await send_error(s, http::status::bad_request, why, false);
      break;
    }
    const UpstreamView* up = snap->route(req[http::field::host], req.target());
    if (!up) {
      co_await send_error(s, http::status::not_found, "no route for this host and path", keep_client);
      if (!keep_client) break;
      continue;
    }
    const bool upgrade = is_upgrade(req);
    prepare_upstream_request(req, s.client_ip, upgrade);
    req.prepare_payload();
    const bool keep = co_await proxy(s, *up, req, keep_client, upgrade, started, limits);
    if (!keep || worker.draining()) break;
  }
  s.client.socket().shutdown(tcp::socket::shutdown_send, ec);
  s.client.close();
}

}  // namespace failover::lb
