// The byte pumps of a proxy session: a large request body streamed to the
// server, and the two directions of an upgraded (WebSocket) connection.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

#include "lb/proxy_request.h"
#include "lb/upstream_pool.h"

namespace failover::lb {

namespace asio = boost::asio;
namespace http1 = net::http1;
using asio::ip::tcp;

namespace {

// Copies bytes one way until either side closes; the other direction is
// cancelled by the || in tunnel(). Any byte either way keeps the tunnel open
// for another `idle` (the session deadline cancels both sockets).
asio::awaitable<void> pump(Session& s, tcp::socket& from, tcp::socket& to,
                           std::chrono::milliseconds idle) {
  std::array<char, kReadSize> buf;
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kTuple);
    if (ec) break;
    s.deadline.expires_after(idle);
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kTuple);
    if (wec) break;
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

// After a 101: the bytes each side already sent go first, then both
// directions run until one closes or neither moves for tunnel_timeout.
asio::awaitable<void> tunnel(Session& s, UpstreamConn& conn, const LimitsConfig& limits) {
  using namespace asio::experimental::awaitable_operators;
  s.deadline.expires_after(limits.tunnel_timeout);
  if (!conn.buffer.empty()) co_await asio::async_write(s.client, asio::buffer(conn.buffer.data()), kTuple);
  if (!s.in.empty()) co_await asio::async_write(conn.socket, asio::buffer(s.in.data()), kTuple);
  s.in.clear();
  conn.buffer.clear();
  co_await (pump(s, s.client, conn.socket, limits.tunnel_timeout) ||
            pump(s, conn.socket, s.client, limits.tunnel_timeout));
}

// Relays the rest of a large request body from the client to the server.
// A client that fails, stalls or sends a malformed or oversized chunked body
// sets s.client_failed (and s.client_error): not the server's fault.
asio::awaitable<boost::system::error_code> stream_request_body(Session& s, UpstreamConn& conn,
                                                               const LimitsConfig& limits) {
  Session::BodyStream& body = s.stream;
  while (body.active) {
    if (s.in.empty()) {
      s.deadline.expires_after(limits.body_timeout);
      auto room = s.in.prepare(kReadSize);
      auto [ec, n] = co_await s.client.async_read_some(asio::buffer(room.data(), room.size()), kTuple);
      if (ec) {
        s.client_failed = true;
        co_return ec;
      }
      s.in.commit(n);
    }
    std::size_t n = 0;
    if (body.chunked) {
      http1::Error error = http1::Error::kNone;
      n = body.scanner.scan(s.in.data(), error);
      if (error != http1::Error::kNone || body.sent + n > body.limit) {
        s.client_failed = true;
        s.client_error = error == http1::Error::kBadChunk ? 400 : 413;
        co_return asio::error::make_error_code(asio::error::invalid_argument);
      }
    } else {
      n = static_cast<std::size_t>(std::min<std::uint64_t>(body.remaining, s.in.size()));
    }
    s.deadline.expires_after(limits.body_timeout);
    auto [ec, written] = co_await asio::async_write(conn.socket, asio::buffer(s.in.data().data(), n), kTuple);
    if (ec) co_return ec;
    s.in.consume(n);
    body.sent += n;
    if (body.chunked) body.active = !body.scanner.done();
    else body.active = (body.remaining -= n) > 0;
  }
  co_return boost::system::error_code();
}

}  // namespace failover::lb
