#include "health/probe.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "core/clock.h"

namespace failover::health {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint32_t kHeaderLimit = 16 * 1024;

std::string host_of(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(ep.port());
}

std::string request_for(const tcp::endpoint& ep, const CheckConfig& check) {
  if (!check.raw_request.empty()) return check.raw_request;
  std::string req = "GET ";
  req += check.uri.empty() ? "/" : check.uri;
  req += " HTTP/1.1\r\nHost: ";
  req += check.host.empty() ? host_of(ep) : check.host;
  // Connection: close so the server does not hold a keep-alive slot for a
  // socket we drop as soon as the headers are in.
  req += "\r\nConnection: close\r\nUser-Agent: failover-check\r\n\r\n";
  return req;
}

// Errors after the connect succeeded. A peer that goes away before the
// headers are complete (FIN, RST, or a truncated header) is a reset: the
// process accepted and then died or closed, which differs from sending junk.
Cause cause_of(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return Cause::kTimeout;
  if (ec == asio::error::connection_refused) return Cause::kRefused;
  if (ec == asio::error::connection_reset || ec == asio::error::eof ||
      ec == asio::error::broken_pipe || ec == http::error::end_of_stream ||
      ec == http::error::partial_message) {
    return Cause::kReset;
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return Cause::kBadResponse;
  }
  return Cause::kError;
}

ProbeResult fail(Cause cause, const boost::system::error_code& ec) {
  ProbeResult r;
  r.ok = false;
  r.cause = cause;
  r.detail = ec.message();
  return r;
}

}  // namespace

namespace {

// The probe's steps, unbounded in time: probe() races them against the
// deadline, and a loss closes the socket.
asio::awaitable<ProbeResult> exchange(tcp::endpoint endpoint, const CheckConfig& check) {
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  auto [connect_ec] = co_await stream.async_connect(endpoint, kTuple);
  if (connect_ec) co_return fail(cause_of(connect_ec), connect_ec);

  if (check.type == CheckType::kTcp) {
    ProbeResult r;
    r.ok = true;
    r.cause = Cause::kOk;
    co_return r;
  }

  const std::string request = request_for(endpoint, check);
  auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(request), kTuple);
  if (write_ec) co_return fail(cause_of(write_ec), write_ec);

  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(kHeaderLimit);
  // The status line decides; a body (or a HEAD reply without one) is never read.
  parser.skip(true);
  auto [read_ec, read] = co_await http::async_read_header(stream, buffer, parser, kTuple);
  if (read_ec) co_return fail(cause_of(read_ec), read_ec);

  ProbeResult r;
  r.status = static_cast<int>(parser.get().result_int());
  if (status_expected(check.expect, r.status)) {
    r.ok = true;
    r.cause = Cause::kOk;
  } else {
    r.cause = Cause::kBadStatus;
    r.detail = "status " + std::to_string(r.status);
  }
  co_return r;
}

}  // namespace

asio::awaitable<ProbeResult> probe(tcp::endpoint endpoint, CheckConfig check, const core::Clock& clock) {
  using namespace asio::experimental::awaitable_operators;
  const core::TimePoint start = clock.now();
  // One deadline for connect, write and read together, on the clock: a
  // server that trickles its reply one byte per second must still fail
  // within `timeout`. (Operands are named: GCC 12 mishandles some
  // temporaries inside a co_await expression.)
  auto attempt = exchange(endpoint, check);
  auto expired = core::expire_at(clock, start + check.timeout);
  auto done = co_await (std::move(attempt) || std::move(expired));
  ProbeResult r;
  if (done.index() == 0) {
    r = std::get<0>(std::move(done));
  } else {
    r.cause = Cause::kTimeout;
    r.detail = "timed out after " + std::to_string(check.timeout.count()) + "ms";
  }
  r.latency = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start);
  co_return r;
}

}  // namespace failover::health
