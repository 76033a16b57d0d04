#include "net/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <array>
#include <memory>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "net/endpoint.h"
#include "net/listener.h"

namespace failover::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

HttpResponse HttpResponse::json(int status, std::string body) {
  return HttpResponse{status, "application/json", std::move(body), {}};
}
HttpResponse HttpResponse::text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}
HttpResponse HttpResponse::metrics(std::string body) {
  return HttpResponse{200, "text/plain; version=0.0.4", std::move(body), {}};
}
HttpResponse HttpResponse::html(std::string body) {
  return HttpResponse{200, "text/html; charset=utf-8", std::move(body), {}};
}
HttpResponse HttpResponse::error(int status, std::string_view message) {
  return json(status, "{\"error\":" + json_quote(message) + "}\n");
}

namespace {

struct Shared {
  HttpHandler handler;
  HttpServerLimits limits;
  int connections = 0;        // only touched on the io thread
  std::size_t body_bytes = 0;  // held by every connection's BodyHold, ditto
};

// One request's share of limits.max_body_bytes_held, given back when it ends.
class BodyHold {
 public:
  explicit BodyHold(Shared& shared) : shared_(shared) {}
  BodyHold(const BodyHold&) = delete;
  BodyHold& operator=(const BodyHold&) = delete;
  ~BodyHold() { shared_.body_bytes -= held_; }

  // Holds `bytes` in all for this request; false when the budget lacks room.
  bool grow_to(std::size_t bytes) {
    if (bytes <= held_) return true;
    const std::size_t budget = shared_.limits.max_body_bytes_held;
    if (budget > 0 && shared_.body_bytes - held_ + bytes > budget) return false;
    shared_.body_bytes += bytes - held_;
    held_ = bytes;
    return true;
  }

 private:
  Shared& shared_;
  std::size_t held_ = 0;
};

using RequestParser = http::request_parser<http::string_body>;

// Reads a request's body after its head, within the budget. Returns 0, the
// status to answer before closing (400, 413, 503), or -1 to close at once
// (the client went, or stalled past body_timeout: tcp_stream closed the
// socket, and nginx sends nothing for its 408 either).
asio::awaitable<int> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer, RequestParser& parser,
                               BodyHold& hold, const HttpServerLimits& limits) {
  const boost::optional<std::uint64_t> length = parser.content_length();
  if (length && !hold.grow_to(*length)) co_return 503;
  const bool expects_continue =
      parser.get().version() == 11 && beast::iequals(parser.get()[http::field::expect], "100-continue");
  if (expects_continue && !parser.is_done()) {
    stream.expires_after(limits.body_timeout);
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
    if (ec) co_return -1;
  }
  while (!parser.is_done()) {
    stream.expires_after(limits.body_timeout);
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
    if (ec == http::error::body_limit) co_return 413;
    if (ec) co_return ec.category() == http::make_error_code(http::error::bad_target).category() ? 400 : -1;
    if (!hold.grow_to(parser.get().body().size())) co_return 503;  // chunked, past the room left
  }
  co_return 0;
}

HttpResponse busy(const HttpServerLimits& limits) {
  HttpResponse r = HttpResponse::error(
      503, "busy: the request bodies held would pass " + std::to_string(limits.max_body_bytes_held) + " bytes; retry");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// The response head, written by hand: Beast's serializer cost a quarter of
// the CPU of an HTTPDNS request (perf), for a head of five fields.
std::string response_head(const HttpResponse& r, unsigned version, bool keep_alive) {
  std::string h;
  h.reserve(128);
  h += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  h += std::to_string(r.status);
  h += ' ';
  h += http::obsolete_reason(static_cast<http::status>(r.status));
  h += "\r\nServer: failover\r\nContent-Type: ";
  h += r.content_type;
  for (const auto& [k, v] : r.headers) {
    h += "\r\n";
    h += k;
    h += ": ";
    h += v;
  }
  h += "\r\nContent-Length: ";
  h += std::to_string(r.body.size());
  if (version == 10 && keep_alive) h += "\r\nConnection: keep-alive";
  if (version != 10 && !keep_alive) h += "\r\nConnection: close";
  h += "\r\n\r\n";
  return h;
}

// Head and body in one gather write. A HEAD request gets the head alone.
asio::awaitable<boost::system::error_code> write_response(beast::tcp_stream& stream, const HttpResponse& r,
                                                          unsigned version, bool keep_alive, bool head_only) {
  const std::string head = response_head(r, version, keep_alive);
  const std::array<asio::const_buffer, 2> out{asio::buffer(head),
                                              head_only ? asio::const_buffer() : asio::buffer(r.body)};
  auto [ec, n] = co_await asio::async_write(stream, out, kTuple);
  co_return ec;
}

asio::awaitable<void> session(beast::tcp_stream stream, std::shared_ptr<Shared> shared) {
  beast::flat_buffer buffer;
  if (shared->limits.read_buffer_bytes > 0) buffer.reserve(shared->limits.read_buffer_bytes);
  const std::string remote = to_string(stream.socket().remote_endpoint());
  for (;;) {
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(shared->limits.max_header_size));
    parser.body_limit(shared->limits.max_body_size);
    stream.expires_after(buffer.size() ? shared->limits.header_timeout : shared->limits.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    int status = 0;
    std::string reason = ec.message();
    if (ec == http::error::header_limit) status = 431;
    else if (ec == http::error::body_limit) status = 413;
    else if (ec.category() == http::make_error_code(http::error::bad_target).category()) status = 400;
    else if (ec == beast::error::timeout && buffer.size() > 0) status = 408;
    else if (ec) break;
    BodyHold hold(*shared);
    if (!ec) {
      status = co_await read_body(stream, buffer, parser, hold, shared->limits);
      if (status < 0) break;
      reason = status == 413 ? "body over " + std::to_string(shared->limits.max_body_size) + " bytes" : "bad body";
    }
    if (status) {
      stream.expires_after(std::chrono::seconds(5));
      const HttpResponse answer = status == 503 ? busy(shared->limits) : HttpResponse::error(status, reason);
      co_await write_response(stream, answer, 11, false, false);
      break;
    }
    auto req = parser.release();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    const auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
    for (const auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(req.body());
    r.remote = remote;
    const bool keep_alive = req.keep_alive();
    HttpResponse out;
    try {
      out = co_await shared->handler(std::move(r));
    } catch (const std::exception& e) {
      spdlog::error("http handler failed on {}: {}", req.target(), e.what());
      out = HttpResponse::error(500, "internal error");
    }
    stream.expires_after(std::chrono::seconds(30));
    const auto wec = co_await write_response(stream, out, req.version(), keep_alive, req.method() == http::verb::head);
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, std::shared_ptr<Shared> shared) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors (EMFILE) and the like: wait instead of spinning;
      // connections queue in the backlog meanwhile.
      co_await core::SteadyClock::instance().sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (shared->connections >= shared->limits.max_connections) continue;  // socket closes here
    ++shared->connections;
    asio::co_spawn(acceptor.get_executor(), session(beast::tcp_stream(std::move(socket)), shared),
                   [shared](std::exception_ptr) { --shared->connections; });
  }
}

}  // namespace

void serve_http(asio::io_context& io, const tcp::endpoint& endpoint, HttpHandler handler,
                HttpServerLimits limits) {
  auto shared = std::make_shared<Shared>(Shared{std::move(handler), limits});
  auto acceptor = make_acceptor(io.get_executor(), endpoint, false);
  asio::co_spawn(io, accept_loop(std::move(acceptor), shared), asio::detached);
}

}  // namespace failover::net
