// One client connection of the proxy: read a request, pick a server, send it,
// relay the response back; on a failure before the response started, try
// another server. Reads top to bottom as a loop of co_awaits under one
// movable deadline. Heads are parsed in place (net/http1.h) and bodies are
// relayed as they arrive with their framing unchanged: no per-header
// allocation, one gather write per piece.
#include <boost/asio/write.hpp>

#include "core/clock.h"
#include "lb/control.h"
#include "lb/proxy_request.h"
#include "lb/retry.h"
#include "lb/worker.h"

namespace failover::lb {

namespace asio = boost::asio;
namespace http1 = net::http1;
using asio::ip::tcp;

namespace {

constexpr std::size_t kMaxResponseHead = 64 * 1024;
constexpr std::size_t kWholeResponse = 64 * 1024;  // head and sized body read before relaying

core::TimePoint now() { return core::SteadyClock::instance().now(); }

asio::awaitable<void> send_error(Session& s, int status, std::string_view why, bool keep_alive) {
  s.linger = !keep_alive;
  s.out.clear();
  append_error_response(status, why, keep_alive, s.out);
  s.deadline.expires_after(std::chrono::seconds(5));
  co_await asio::async_write(s.client, asio::buffer(s.out), kTuple);
}

struct AttemptResult {
  Outcome outcome = Outcome::kOk;
  const char* cause = "ok";     // for passive detection and /status
  bool server_failed = false;   // counts toward the server's ejection
  bool client_done = false;     // the client got a response (or lost its connection)
  bool keep_client = false;     // ...and the connection may serve another request
  bool body_complete = false;   // the server's whole response was read
};

AttemptResult failed(Outcome o, const char* cause) { return {o, cause, true, false, false, false}; }
AttemptResult client_gone() { return {Outcome::kOk, "ok", false, true, false, false}; }

// Sends the response head in s.out and the body after it, as the server's
// bytes arrive, framing unchanged. The head goes out with the first piece of
// body in one write.
asio::awaitable<AttemptResult> relay_body(Session& s, UpstreamConn& conn, BodyFraming framing,
                                          bool keep_client, const LimitsConfig& limits) {
  bool head_sent = false;
  for (;;) {
    http1::Error error = http1::Error::kNone;
    s.decoded.clear();
    const std::size_t n = framing.take(conn.buffer.data(), error, &s.decoded);
    if (error != http1::Error::kNone) {
      // Garbage inside a chunked body: the client already has the status
      // line, so it can only see the connection close.
      co_return AttemptResult{Outcome::kBadResponse, "bad_response", true, true, false, false};
    }
    if (!head_sent || n > 0) {
      const std::array<asio::const_buffer, 2> pieces{
          head_sent ? asio::const_buffer() : asio::buffer(s.out),
          framing.decodes() ? asio::buffer(s.decoded) : asio::buffer(conn.buffer.data().data(), n)};
      s.deadline.expires_after(limits.response_timeout);
      auto [ec, written] = co_await asio::async_write(s.client, pieces, kTuple);
      if (ec) co_return client_gone();
      head_sent = true;
      conn.buffer.consume(n);
    }
    if (framing.done()) break;
    s.deadline.expires_after(limits.response_timeout);
    auto room = conn.buffer.prepare(kReadSize);
    auto [ec, got] = co_await conn.socket.async_read_some(asio::buffer(room.data(), room.size()), kTuple);
    if (ec) {
      if (framing.until_close() && !s.deadline.expired()) break;  // the close ends the body
      co_return AttemptResult{Outcome::kFailedAfterSend, "truncated", true, true, false, false};
    }
    conn.buffer.commit(got);
  }
  co_return AttemptResult{Outcome::kOk, "ok", false, true, keep_client, true};
}

// A server may send this many interim (1xx) responses before its final one;
// more is a server stalling us, not informing the client.
constexpr int kMaxInterim = 16;

// Reads a response head from `conn` into `head`. Interim 1xx responses other
// than 101 are passed to the client as they come (RFC 9110 15.2: a proxy
// forwards them), except to an HTTP/1.0 client, which must not get them, and
// a 100 when we already answered the client's Expect ourselves. A small
// sized body is read whole too, before anything goes to the client: a server
// that dies in the middle of it then costs a retry, not a truncated
// response. Views in `head` point into conn.buffer.
asio::awaitable<boost::system::error_code> read_response_head(Session& s, UpstreamConn& conn,
                                                              const Request& req,
                                                              const LimitsConfig& limits,
                                                              http1::ResponseHead& head,
                                                              http1::Error& error) {
  const http1::HeadLimits head_limits{kMaxResponseHead, static_cast<std::size_t>(limits.max_headers)};
  int interim = 0;
  for (;;) {
    const auto r = http1::parse_response(conn.buffer.data(), head_limits, head, error);
    if (r == http1::Parse::kError) co_return boost::system::error_code();
    if (r == http1::Parse::kDone) {
      if (head.status < 200 && head.status != 101) {
        if (++interim > kMaxInterim) {
          error = http1::Error::kBadStatusLine;
          co_return boost::system::error_code();
        }
        if (req.version_minor == 1 && !(head.status == 100 && req.sent_continue)) {
          s.out.clear();
          http1::write_response_head(head, true, s.out);
          auto [ec, n] = co_await asio::async_write(s.client, asio::buffer(s.out), kTuple);
          if (ec) {
            s.client_failed = true;
            co_return ec;
          }
        }
        conn.buffer.consume(head.head_size);
        continue;
      }
      const BodyFraming framing = BodyFraming::of(head, req.is_head);
      const std::uint64_t whole = head.head_size + head.content_length.value_or(0);
      if (!framing.sized() || whole > kWholeResponse || conn.buffer.size() >= whole)
        co_return boost::system::error_code();
    }
    auto room = conn.buffer.prepare(kReadSize);  // moves the bytes: parse again after
    auto [ec, n] = co_await conn.socket.async_read_some(asio::buffer(room.data(), room.size()), kTuple);
    if (ec) co_return ec;
    conn.buffer.commit(n);
  }
}

struct Exchange {
  std::unique_ptr<UpstreamConn> conn;
  boost::system::error_code ec;
  http1::Error parse_error = http1::Error::kNone;
  const char* connect_cause = nullptr;  // set when no connection could be made
};

// Connects (or reuses a pooled connection), sends the request and reads the
// response head, all before `until`. A pooled connection the server closed
// while idle is replaced by a fresh one once, for idempotent requests.
asio::awaitable<Exchange> exchange(Session& s, const ServerView& server, const UpstreamView& up,
                                   const Request& req, http1::ResponseHead& head,
                                   core::TimePoint until, const LimitsConfig& limits) {
  Exchange x;
  // An idempotent request that meets a connection the server closed while
  // idle is simply sent again on a fresh one (below); others check first.
  x.conn = s.worker.pool().take(server, now(), limits.upstream_idle_timeout, !req.idempotent);
  s.deadline.expires_at(until);
  const std::uint64_t sent_before = s.stream.sent;
  for (int pass = 0; pass < 2; ++pass) {
    if (!x.conn) {
      if (server.max_connections > 0 &&
          server.stats->connections.load(std::memory_order_relaxed) >=
              static_cast<std::uint32_t>(server.max_connections)) {
        x.connect_cause = "busy";
        co_return x;
      }
      x.conn = std::make_unique<UpstreamConn>(tcp::socket(s.worker.io()), server.stats);
      s.upstream = &x.conn->socket;
      auto [ec] = co_await x.conn->socket.async_connect(server.endpoint, kTuple);
      if (ec) {
        x.connect_cause = s.deadline.expired()                       ? "connect_timeout"
                          : ec == asio::error::connection_refused ? "refused"
                                                                   : "connect_error";
        x.ec = ec;
        co_return x;
      }
      boost::system::error_code ignored;
      x.conn->socket.set_option(tcp::no_delay(true), ignored);
    }
    s.upstream = &x.conn->socket;
    const std::array<asio::const_buffer, 2> message{asio::buffer(req.head), asio::buffer(req.body)};
    auto [wec, wn] = co_await asio::async_write(x.conn->socket, message, kTuple);
    x.ec = wec;
    if (!wec && s.stream.active) {
      x.ec = co_await stream_request_body(s, *x.conn, limits);
      // The server's answer may take try_timeout after the upload, not from its start.
      s.deadline.expires_at(std::max(until, now() + up.retry.try_timeout));
    }
    if (!x.ec) x.ec = co_await read_response_head(s, *x.conn, req, limits, head, x.parse_error);
    // Only while no part of a streamed body went out: it cannot be sent twice.
    const bool stale = x.ec && x.conn->reused && !s.deadline.expired() && x.conn->buffer.empty() &&
                       s.stream.sent == sent_before && !s.client_failed;
    if (!stale || pass == 1 || !req.idempotent) break;
    x.conn.reset();  // closed by the server while idle: not the server's failure
  }
  co_return x;
}

asio::awaitable<AttemptResult> attempt(Session& s, const ServerView& server,
                                       const UpstreamView& up, const Request& req,
                                       core::TimePoint until, bool may_retry_status,
                                       bool keep_client, const LimitsConfig& limits) {
  http1::ResponseHead& head = s.response_head;
  Exchange x = co_await exchange(s, server, up, req, head, until, limits);
  // From here on the deadline must not cancel a socket that is gone.
  struct Release { Session& s; ~Release() { s.upstream = nullptr; } } release{s};
  if (x.connect_cause) {
    AttemptResult r = failed(Outcome::kConnectFailed, x.connect_cause);
    r.server_failed = std::string_view(x.connect_cause) != "busy";
    co_return r;
  }
  if (s.client_failed) {
    if (s.client_error == 413)
      co_await send_error(s, 413, "request body over " + std::to_string(limits.max_body_size) + " bytes", false);
    else if (s.client_error != 0)
      co_await send_error(s, s.client_error, "malformed chunked request body", false);
    co_return client_gone();  // the server connection closes half-fed: it is not reused
  }
  if (x.ec) {
    if (s.deadline.expired()) co_return failed(Outcome::kTimeout, "timeout");
    co_return failed(Outcome::kFailedAfterSend, "reset");
  }
  if (x.parse_error != http1::Error::kNone) co_return failed(Outcome::kBadResponse, "bad_response");

  UpstreamConn& conn = *x.conn;
  const int status = head.status;
  // A 101 nobody asked for leaves the connection in a protocol the client
  // does not speak: relaying it would hang the client.
  if (status == 101 && !req.upgrade) co_return failed(Outcome::kBadResponse, "unasked_101");
  const char* gateway_cause = status == 502 ? "status_502" : status == 503 ? "status_503"
                              : status == 504 ? "status_504" : nullptr;
  if (gateway_cause && may_retry_status)
    co_return failed(Outcome::kRetryableStatus, gateway_cause);  // its body is not worth reading

  if (req.upgrade && status == 101) {
    s.out.clear();
    http1::write_response_head(head, false, s.out, req.version_minor);
    conn.buffer.consume(head.head_size);
    s.deadline.expires_after(limits.response_timeout);
    auto [ec, n] = co_await asio::async_write(s.client, asio::buffer(s.out), kTuple);
    if (!ec) co_await tunnel(s, conn, limits);
    co_return client_gone();
  }

  BodyFraming framing = BodyFraming::of(head, req.is_head);
  const bool server_keeps = head.keep_alive && !framing.until_close();
  if (req.version_minor == 0) framing.dechunk();
  // A body that ends when the connection closes (the server's, or ours to an
  // HTTP/1.0 client of a chunked reply) means the client connection closes too.
  const bool keep = keep_client && !framing.until_close() && !framing.decodes();
  s.out.clear();
  http1::write_response_head(head, keep, s.out, req.version_minor);
  conn.buffer.consume(head.head_size);  // `head` is dead from here

  AttemptResult r = co_await relay_body(s, conn, framing, keep, limits);
  if (r.outcome == Outcome::kOk && gateway_cause) {
    r.server_failed = true;  // passed on as it is (no retry allowed), still a failure
    r.cause = gateway_cause;
  }
  if (r.body_complete && server_keeps && conn.buffer.empty())
    s.worker.pool().put(server, std::move(x.conn), now());
  co_return r;
}

// Tries servers until one answers, the tries or the time run out, or the
// retry rules forbid another attempt. Returns whether the client connection
// stays open.
asio::awaitable<bool> proxy(Session& s, const Snapshot& snap, const UpstreamView& up, const Request& req,
                            bool keep_client, core::TimePoint started, const LimitsConfig& limits) {
  std::uint64_t tried = 0;
  // A streamed body can go to another server only while none of it was sent.
  const bool streamed = s.stream.active;
  auto body_kept = [&] { return s.stream.sent == 0; };
  Outcome last = Outcome::kConnectFailed;
  int tries = 0;
  auto untried = [&](const std::vector<std::uint32_t>& ids) {
    for (auto id : ids)
      if (!(tried & (1ULL << id))) return true;
    return false;
  };
  auto untried_left = [&] { return untried(up.serving) || untried(up.fallback); };
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now() - started);
  };
  std::vector<Candidate>& candidates = s.candidates;
  while (tries < up.retry.tries) {
    candidates.clear();
    for (auto id : untried(up.serving) ? up.serving : up.fallback) {
      if (tried & (1ULL << id)) continue;
      const ServerView& sv = up.servers[id];
      candidates.push_back({id, sv.weight, sv.stats->active.load(std::memory_order_relaxed)});
    }
    if (candidates.empty()) break;
    const ServerView& server = up.servers[candidates[s.worker.balancer(snap, up).pick(candidates)].id];
    tried |= 1ULL << server.id;
    ++tries;
    if (tries > 1) s.worker.shared().retries.fetch_add(1, std::memory_order_relaxed);

    const core::TimePoint until = std::min(now() + up.retry.try_timeout, started + up.retry.timeout);
    const bool may_retry_status =
        should_retry({req.method, Outcome::kRetryableStatus, tries, up.retry.tries, !streamed,
                      elapsed(), up.retry.timeout, untried_left()});
    server.stats->active.fetch_add(1, std::memory_order_relaxed);
    server.stats->total.fetch_add(1, std::memory_order_relaxed);
    AttemptResult r = co_await attempt(s, server, up, req, until, may_retry_status, keep_client, limits);
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
    if (!should_retry({req.method, r.outcome, tries, up.retry.tries, body_kept(), elapsed(),
                       up.retry.timeout, untried_left()}))
      break;
  }
  // Body bytes still unread on the connection cannot be skipped safely.
  if (s.stream.active) keep_client = false;
  if (tries == 0) {
    s.worker.shared().no_server.fetch_add(1, std::memory_order_relaxed);
    co_await send_error(s, 503, "no server available in upstream " + up.name, keep_client);
  } else if (last == Outcome::kTimeout) {
    co_await send_error(s, 504, "no response from upstream " + up.name + " after " +
                                    std::to_string(tries) + " tries", keep_client);
  } else {
    co_await send_error(s, 502, "upstream " + up.name + " failed " + std::to_string(tries) +
                                    " tries", keep_client);
  }
  co_return keep_client;
}

// After an error answer (413, 400...) the client may still be sending its
// request. Closing with unread bytes would make the kernel send a reset that
// can destroy our answer before the client reads it; so read and drop what
// comes, for a bounded time and size, as nginx's lingering close does.
asio::awaitable<void> linger(Session& s) {
  constexpr std::uint64_t kMaxDiscard = 16 * 1024 * 1024;
  s.deadline.expires_after(std::chrono::seconds(5));
  std::uint64_t discarded = 0;
  while (discarded < kMaxDiscard) {
    s.in.clear();
    auto room = s.in.prepare(kReadSize);
    auto [ec, n] = co_await s.client.async_read_some(asio::buffer(room.data(), room.size()), kTuple);
    if (ec) break;
    discarded += n;
  }
}

}  // namespace

asio::awaitable<void> client_session(Worker& worker, tcp::socket socket) {
  Session s(worker, std::move(socket));
  Request req;
  for (;;) {
    const std::shared_ptr<const Snapshot> snap = worker.snapshot();
    const LimitsConfig& limits = snap->limits;
    const ReadOutcome got = co_await read_request(s, limits, *snap, req);
    if (got.status == kClosedQuietly) break;
    if (got.status != 0) {
      co_await send_error(s, got.status, got.why, false);
      break;
    }
    worker.shared().requests.fetch_add(1, std::memory_order_relaxed);
    const bool keep_client = req.keep_alive && !worker.draining();
    if (!got.upstream) {
      // A large body still unread on the connection: it cannot go on.
      const bool keep = keep_client && !s.stream.active;
      co_await send_error(s, 404, "no route for this host and path", keep);
      if (!keep) break;
      continue;
    }
    const bool keep = co_await proxy(s, *snap, *got.upstream, req, keep_client, got.started, limits);
    if (!keep || worker.draining()) break;
  }
  boost::system::error_code ec;
  s.client.shutdown(tcp::socket::shutdown_send, ec);
  if (s.linger) co_await linger(s);
  s.client.close(ec);
}

}  // namespace failover::lb
