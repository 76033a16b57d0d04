#include "net/http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <array>
#include <memory>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "net/endpoint.h"
#include "net/deadline.h"
#include "net/http1.h"
#include "net/listener.h"
#include "net/read_buffer.h"

namespace failover::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace http1 = net::http1;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadSize = 4096;  // the least room a read of a head or chunked body gets
constexpr std::size_t kBodyReadStep = 256 * 1024;  // the most one read of a sized body takes
constexpr std::chrono::seconds kWriteTimeout{30};       // to write an answer
constexpr std::chrono::seconds kErrorWriteTimeout{5};  // to write an error before closing

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (http1::iequals(k, name)) return v;
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

// One connection: its socket, the bytes read and not yet used, and one
// deadline moved before every wait. Heads are parsed in place (net/http1.h),
// as the proxy does: with Beast's parser and tcp_stream (a timer armed per
// read and per write, fields copied into a map) the store's primary spent
// 8-10 % more CPU per write at 64 clients.
struct Connection {
  explicit Connection(tcp::socket s)
      : socket(std::move(s)), deadline(socket.get_executor(), [this] {
          boost::system::error_code ignored;
          socket.cancel(ignored);
        }) {}
  tcp::socket socket;
  ReadBuffer in;
  http1::RequestHead head;
  std::string out;  // the head of an answer
  Deadline deadline;
};

// Reads more bytes into c.in before c's deadline; false when the peer went,
// the read failed or the deadline passed (c.deadline.expired() tells which).
asio::awaitable<bool> read_more(Connection& c, const HttpServerLimits& limits) {
  const std::span<char> free = c.in.prepare(std::max(limits.read_buffer_bytes, kReadSize));
  auto [ec, n] = co_await c.socket.async_read_some(asio::buffer(free.data(), free.size()), kTuple);
  if (ec) co_return false;
  c.in.commit(n);
  co_return true;
}

// Reads the body the head announces into `body`, within the budget. Returns
// 0, the status to answer before closing (400, 413, 503), or -1 to close at
// once (the client went, or stalled past body_timeout; nginx sends nothing
// for its 408 either).
asio::awaitable<int> read_body(Connection& c, std::string& body, BodyHold& hold, const HttpServerLimits& limits) {
  const http1::RequestHead& head = c.head;
  if (head.content_length && *head.content_length > limits.max_body_size) co_return 413;
  if (head.content_length && !hold.grow_to(*head.content_length)) co_return 503;
  const std::size_t length = head.content_length.value_or(0);
  const bool body_to_come = head.chunked || c.in.size() < length;
  if (head.expect_continue && body_to_come) {
    c.deadline.expires_after(limits.body_timeout);
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(c.socket, asio::buffer(kContinue), kTuple);
    if (ec) co_return -1;
  }
  if (!head.chunked) {
    // What came with the head, then straight into the body: no copy through
    // the read buffer for a large upload. The string grows a step per read:
    // sized whole at once, a 64 MiB body had its pages zero-filled in one go
    // on the io thread (over 100 ms here), and heartbeats waited.
    const std::size_t here = std::min(c.in.size(), length);
    body.reserve(length);
    body.assign(c.in.data().substr(0, here));
    c.in.consume(here);
    while (body.size() < length) {
      const std::size_t have = body.size();
      body.resize(std::min(length, have + kBodyReadStep));
      c.deadline.expires_after(limits.body_timeout);
      auto [ec, n] = co_await c.socket.async_read_some(asio::buffer(body.data() + have, body.size() - have), kTuple);
      if (ec) co_return -1;
      body.resize(have + n);
    }
    co_return 0;
  }
  http1::ChunkedDecoder decoder(limits.max_body_size);
  for (;;) {
    http1::Error error = http1::Error::kNone;
    std::size_t used = 0;
    const http1::Decode got = decoder.decode(c.in.data(), body, used, error);
    c.in.consume(used);
    if (got == http1::Decode::kTooLarge) co_return 413;
    if (got == http1::Decode::kError) co_return 400;
    if (!hold.grow_to(body.size())) co_return 503;  // past the room left
    if (got == http1::Decode::kDone) co_return 0;
    c.deadline.expires_after(limits.body_timeout);
    const bool more = co_await read_more(c, limits);
    if (!more) co_return -1;
  }
}

HttpResponse busy(const HttpServerLimits& limits) {
  HttpResponse r = HttpResponse::error(
      503, "busy: the request bodies held would pass " + std::to_string(limits.max_body_bytes_held) + " bytes; retry");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// The response head, written by hand: Beast's serializer cost a quarter of
// the CPU of an HTTPDNS request (perf), for a head of five fields.
void write_head(const HttpResponse& r, int version_minor, bool keep_alive, std::string& h) {
  h.clear();
  h += version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
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
  if (version_minor == 0 && keep_alive) h += "\r\nConnection: keep-alive";
  if (version_minor != 0 && !keep_alive) h += "\r\nConnection: close";
  h += "\r\n\r\n";
}

// Head and body in one gather write. A HEAD request gets the head alone.
// `head` is the connection's buffer for it, kept from one answer to the next.
asio::awaitable<boost::system::error_code> write_response(tcp::socket& socket, const HttpResponse& r,
                                                          int version_minor, bool keep_alive, bool head_only,
                                                          std::string& head) {
  write_head(r, version_minor, keep_alive, head);
  const std::array<asio::const_buffer, 2> out{asio::buffer(head),
                                              head_only ? asio::const_buffer() : asio::buffer(r.body)};
  auto [ec, n] = co_await asio::async_write(socket, out, kTuple);
  co_return ec;
}

// Reads the next request head into c.head. Returns 0, the status to answer
// before closing (400, 408, 431, 501, 505; `why` says more), or -1 to close
// quietly (the client closed, or stayed idle between requests).
asio::awaitable<int> read_head(Connection& c, const HttpServerLimits& limits, std::string& why) {
  c.deadline.expires_after(c.in.empty() ? limits.idle_timeout : limits.header_timeout);
  for (;;) {
    http1::Error error = http1::Error::kNone;
    const http1::Parse parsed = http1::parse_request(c.in.data(), limits.max_header_size, c.head, error);
    if (parsed == http1::Parse::kDone) co_return 0;
    if (parsed == http1::Parse::kError) {
      why = http1::error_message(error);
      co_return http1::request_error_status(error);
    }
    const bool was_empty = c.in.empty();
    const bool more = co_await read_more(c, limits);
    if (!more && c.deadline.expired() && !c.in.empty()) {
      why = "the request head did not arrive in time";
      co_return 408;
    }
    if (!more) co_return -1;
    // The idle wait is over: the rest of the head has header_timeout.
    if (was_empty) c.deadline.expires_after(limits.header_timeout);
  }
}

HttpRequest make_request(const http1::RequestHead& head, const std::string& remote) {
  HttpRequest r;
  r.method = head.method;
  r.target = head.target;
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  r.headers.reserve(head.headers.size());
  for (const http1::Header& f : head.headers) r.headers.emplace_back(f.name, f.value);
  r.remote = remote;
  return r;
}

asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<Shared> shared) {
  const HttpServerLimits& limits = shared->limits;
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string remote = ec ? "" : to_string(peer);
  Connection c(std::move(socket));
  for (;;) {
    std::string reason;
    int status = co_await read_head(c, limits, reason);
    if (status < 0) break;
    const int version_minor = c.head.version_minor;
    const bool keep_alive = c.head.keep_alive;
    const bool head_only = c.head.method == "HEAD";
    HttpRequest r;
    BodyHold hold(*shared);
    if (status == 0) {
      r = make_request(c.head, remote);
      c.in.consume(c.head.head_size);  // c.head's views are not used past here
      status = co_await read_body(c, r.body, hold, limits);
      if (status < 0) break;
      reason = status == 413 ? "body over " + std::to_string(limits.max_body_size) + " bytes" : "bad body";
    }
    if (status) {
      c.deadline.expires_after(kErrorWriteTimeout);
      const HttpResponse answer = status == 503 ? busy(limits) : HttpResponse::error(status, reason);
      co_await write_response(c.socket, answer, 1, false, false, c.out);
      break;
    }
    c.deadline.disarm();  // the handler takes the time it needs
    HttpResponse out;
    try {
      out = co_await shared->handler(std::move(r));
    } catch (const std::exception& e) {
      spdlog::error("http handler failed on a request from {}: {}", remote, e.what());
      out = HttpResponse::error(500, "internal error");
    }
    c.deadline.expires_after(kWriteTimeout);
    const auto wec = co_await write_response(c.socket, out, version_minor, keep_alive, head_only, c.out);
    if (wec || !keep_alive) break;
  }
  c.socket.shutdown(tcp::socket::shutdown_send, ec);
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
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), shared),
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
