#include "net/http_client.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <unordered_map>

#include "core/clock.h"

#include "net/endpoint.h"

namespace failover::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Conn {
  explicit Conn(const asio::any_io_executor& ex) : stream(ex) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

// One spelling for a timeout, whichever step (resolve, connect, write, read)
// it cut short, so callers test a single value.
error_code normalize(error_code ec) {
  return ec == beast::error::timeout ? error_code(asio::error::timed_out) : ec;
}

// How a connection the server closed while we held it idle shows up on the
// next request: the write may still succeed (the kernel buffers it), then the
// read sees the FIN or the RST.
bool closed_by_peer(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

// An idle kept socket is usable when reading from it would block: no FIN, no
// RST and no stray bytes. A non-blocking peek costs one syscall and saves a
// resend in the common case (the server timed the connection out long ago).
bool usable_idle(tcp::socket& s) {
  if (!s.is_open()) return false;
  error_code ec, ignored;
  char byte;
  s.non_blocking(true, ignored);
  s.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  s.non_blocking(false, ignored);
  return ec == asio::error::would_block;
}

// How far a request got, shared between the exchange and the deadline that
// races it: a failure before the first byte of the request was written means
// the server cannot have acted on it.
enum class Step { kConnect, kSend, kRead };

const char* step_name(Step step) {
  switch (step) {
    case Step::kConnect: return "connect";
    case Step::kSend: return "send to";
    case Step::kRead: return "read from";
  }
  return "read from";
}

// The Error for a request that ended at `step` with `ec` (see request() in
// the header for what each code promises).
core::Error failure(Step step, const std::string& host_port, const error_code& ec,
                    std::chrono::milliseconds timeout) {
  const std::string where = std::string(step_name(step)) + " " + host_port + ": ";
  if (ec == asio::error::operation_aborted) return core::Error::cancelled(where + "cancelled");
  if (ec == asio::error::invalid_argument && step == Step::kConnect)
    return core::Error::invalid(where + "expected host:port");
  const std::string why =
      ec == asio::error::timed_out ? "timed out after " + std::to_string(timeout.count()) + "ms" : ec.message();
  if (step == Step::kConnect) return core::Error::unavailable(where + why);
  return core::Error::timeout(where + why);
}

http::request<http::string_body> build(const ClientRequest& req, const std::string& host_port,
                                       const std::string& user_agent) {
  http::request<http::string_body> m;
  m.method_string(req.method);
  m.target(req.target);
  m.version(11);
  m.set(http::field::host, host_port);
  m.set(http::field::user_agent, user_agent);
  for (const auto& [k, v] : req.headers) m.insert(k, v);
  if (!req.body.empty() && m.find(http::field::content_type) == m.end())
    m.set(http::field::content_type, "application/json");
  m.body() = req.body;
  m.prepare_payload();
  return m;
}

// Whether the awaiting parent asked this coroutine to stop. A cancellation
// that arrives while an operation is pending ends it with operation_aborted;
// one that arrives between two operations would make the next co_await throw
// (Asio's throw_if_cancelled). Checking this before every operation turns
// both into the same value. (throw_if_cancelled(false) would leak into the
// caller's coroutine, which shares the setting.)
bool stopped(const asio::cancellation_state& cs) {
  return cs.cancelled() != asio::cancellation_type::none;
}

// Resolves (IP literals without DNS) and connects. Name resolution ends at
// `deadline` on `clock`; the connect itself is bounded by the caller (the
// stream's expiry, or a race against the clock).
asio::awaitable<error_code> connect(beast::tcp_stream& stream, const std::string& host_port,
                                    const core::Clock& clock, core::TimePoint deadline) {
  using namespace asio::experimental::awaitable_operators;
  const auto cs = co_await asio::this_coro::cancellation_state;
  const auto hp = split_host_port(host_port);
  if (!hp) co_return asio::error::invalid_argument;
  error_code ec;
  const auto address = asio::ip::make_address(hp->host, ec);
  if (stopped(cs)) co_return asio::error::operation_aborted;
  if (!ec) {
    auto [cec] = co_await stream.async_connect(tcp::endpoint(address, hp->port), kTuple);
    co_return normalize(cec);
  }
  tcp::resolver resolver(stream.get_executor());
  // Whichever ends first cancels the other. (Operands are named: GCC 12
  // mishandles some temporaries inside a co_await expression.)
  const std::string port = std::to_string(hp->port);
  auto resolve = resolver.async_resolve(hp->host, port, kTuple);
  auto expire = core::expire_at(clock, deadline);
  auto done = co_await (std::move(resolve) || std::move(expire));
  if (stopped(cs)) co_return asio::error::operation_aborted;
  if (done.index() == 1) co_return asio::error::timed_out;
  auto [rec, results] = std::get<0>(std::move(done));
  if (rec) co_return rec;
  if (stopped(cs)) co_return asio::error::operation_aborted;
  auto [cec, ep] = co_await stream.async_connect(results, kTuple);
  co_return normalize(cec);
}

void copy_head(const http::fields& fields, ClientResponse& out) {
  for (const auto& f : fields) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
}

}  // namespace

std::string_view ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

struct HttpClient::Impl {
  Impl(asio::any_io_executor ex, HttpClientOptions opts, const core::Clock& clk)
      : executor(std::move(ex)), options(std::move(opts)), clock(clk) {}

  std::unique_ptr<Conn> take_idle(const std::string& host_port) {
    auto it = idle.find(host_port);
    if (it == idle.end()) return nullptr;
    auto conn = std::move(it->second);
    idle.erase(it);
    if (!usable_idle(conn->stream.socket())) return nullptr;  // closes it
    return conn;
  }

  // Keeps at most one idle connection per host: overlapping requests each
  // opened their own, and the extra ones are not worth a descriptor.
  void put_idle(const std::string& host_port, std::unique_ptr<Conn> conn) {
    if (closed || idle.contains(host_port)) return;
    conn->stream.expires_never();  // idle for as long as the server lets it
    idle.emplace(host_port, std::move(conn));
  }

  static asio::awaitable<core::Result<ClientResponse>> request(std::shared_ptr<Impl> self, std::string host_port,
                                                               ClientRequest req, std::chrono::milliseconds timeout);
  // One request on a kept or new connection, unbounded in time: request()
  // races it against the deadline. Keeps `step` up to date for the message
  // and code of a timeout.
  static asio::awaitable<core::Result<ClientResponse>> exchange(std::shared_ptr<Impl> self,
                                                                const std::string& host_port,
                                                                const http::request<http::string_body>& msg,
                                                                bool head_only, core::TimePoint deadline,
                                                                std::chrono::milliseconds timeout, Step& step);
  static asio::awaitable<error_code> stream(std::shared_ptr<Impl> self, std::string host_port,
                                            ClientRequest req,
                                            std::function<bool(std::string_view)> on_piece,
                                            StreamOptions options);

  asio::any_io_executor executor;
  HttpClientOptions options;
  const core::Clock& clock;
  std::unordered_map<std::string, std::unique_ptr<Conn>> idle;
  bool closed = false;  // the HttpClient is gone: connections are no longer kept
};

asio::awaitable<core::Result<ClientResponse>> HttpClient::Impl::request(std::shared_ptr<Impl> self,
                                                                        std::string host_port, ClientRequest req,
                                                                        std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  const auto cs = co_await asio::this_coro::cancellation_state;
  const core::Clock& clock = self->clock;
  const core::TimePoint deadline = clock.now() + timeout;
  const auto msg = build(req, host_port, self->options.user_agent);
  const bool head_only = req.method == "HEAD";
  Step step = Step::kConnect;
  if (stopped(cs)) co_return failure(step, host_port, asio::error::operation_aborted, timeout);
  // The exchange races the deadline on the clock, which alone decides that
  // the request timed out; losing, the exchange is cancelled and its socket
  // closed. (Operands are named: GCC 12 mishandles some temporaries inside a
  // co_await expression.)
  auto exchanged = exchange(self, host_port, msg, head_only, deadline, timeout, step);
  auto expired = core::expire_at(clock, deadline);
  auto done = co_await (std::move(exchanged) || std::move(expired));
  if (done.index() == 0) {
    core::Result<ClientResponse> result = std::get<0>(std::move(done));
    co_return result;
  }
  // A cancelled sleep ends too: only a deadline that really passed is a timeout.
  if (stopped(cs)) co_return failure(step, host_port, asio::error::operation_aborted, timeout);
  co_return failure(step, host_port, asio::error::timed_out, timeout);
}

asio::awaitable<core::Result<ClientResponse>> HttpClient::Impl::exchange(
    std::shared_ptr<Impl> self, const std::string& host_port, const http::request<http::string_body>& msg,
    bool head_only, core::TimePoint deadline, std::chrono::milliseconds timeout, Step& step) {
  const auto cs = co_await asio::this_coro::cancellation_state;
  // Attempt 0 may reuse the kept connection; attempt 1 exists only for the
  // case where that connection turned out closed before any response byte,
  // when the server cannot have acted on the request.
  for (int attempt = 0; attempt < 2; ++attempt) {
    step = Step::kConnect;
    std::unique_ptr<Conn> conn = attempt == 0 ? self->take_idle(host_port) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      conn = std::make_unique<Conn>(self->executor);
      const error_code cec = co_await connect(conn->stream, host_port, self->clock, deadline);
      if (cec) co_return failure(step, host_port, cec, timeout);
    }
    if (stopped(cs)) co_return failure(step, host_port, asio::error::operation_aborted, timeout);
    step = Step::kSend;  // from here on the server may see the request
    auto [wec, written] = co_await http::async_write(conn->stream, msg, kTuple);
    if (wec) {
      if (reused && closed_by_peer(wec)) continue;
      co_return failure(step, host_port, wec, timeout);
    }

    step = Step::kRead;
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(self->options.max_header_size));
    parser.body_limit(self->options.max_body_size);
    if (head_only) parser.skip(true);
    if (stopped(cs)) co_return failure(step, host_port, asio::error::operation_aborted, timeout);
    auto [rec, read] = co_await http::async_read(conn->stream, conn->buffer, parser, kTuple);
    if (rec) {
      // Resending is safe only when the server cannot have answered: not one
      // byte came back.
      if (reused && closed_by_peer(rec) && !parser.got_some() && conn->buffer.size() == 0) continue;
      co_return failure(step, host_port, rec, timeout);
    }

    auto& res = parser.get();
    ClientResponse response;
    response.status = static_cast<int>(res.result_int());
    copy_head(res.base(), response);
    response.body = std::move(res.body());
    // Bytes past the response would be read as the next one: do not keep.
    if (res.keep_alive() && conn->buffer.size() == 0) self->put_idle(host_port, std::move(conn));
    core::Result<ClientResponse> result = std::move(response);
    co_return result;
  }
  // Not reached: attempt 1 never reuses.
  co_return failure(Step::kRead, host_port, asio::error::connection_reset, timeout);
}

asio::awaitable<error_code> HttpClient::Impl::stream(std::shared_ptr<Impl> self, std::string host_port,
                                                     ClientRequest req,
                                                     std::function<bool(std::string_view)> on_piece,
                                                     StreamOptions options) {
  const auto cs = co_await asio::this_coro::cancellation_state;
  Conn conn(self->executor);
  // The stream's expiry bounds connect, send and the response head; the
  // clock bounds name resolution.
  conn.stream.expires_after(options.head_timeout);
  const error_code cec =
      co_await connect(conn.stream, host_port, self->clock, self->clock.now() + options.head_timeout);
  if (cec) co_return normalize(cec);
  const auto msg = build(req, host_port, self->options.user_agent);
  if (stopped(cs)) co_return asio::error::operation_aborted;
  auto [wec, written] = co_await http::async_write(conn.stream, msg, kTuple);
  if (wec) co_return normalize(wec);

  http::response_parser<http::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(self->options.max_header_size));
  parser.body_limit(boost::none);  // a watch never ends; pieces are bounded instead

  // A chunked body is handed over one whole chunk at a time (etcd writes one
  // JSON object per chunk). Finished chunks wait in `ready` until the read
  // returns to this coroutine, so the user callback never runs inside Beast.
  std::string chunk;
  std::vector<std::string> ready;
  auto on_chunk = [&](std::uint64_t remain, std::string_view body, error_code& ec) -> std::size_t {
    if (chunk.size() + body.size() > options.max_piece_size) {
      ec = http::error::body_limit;
      return 0;
    }
    chunk.append(body);
    if (remain == body.size()) ready.push_back(std::exchange(chunk, {}));
    return body.size();
  };
  parser.on_chunk_body(on_chunk);  // must be set before the head is parsed

  if (stopped(cs)) co_return asio::error::operation_aborted;
  auto [hec, head_bytes] = co_await http::async_read_header(conn.stream, conn.buffer, parser, kTuple);
  if (hec) co_return normalize(hec);
  if (options.on_head) {
    ClientResponse head;
    head.status = static_cast<int>(parser.get().result_int());
    copy_head(parser.get().base(), head);
    if (!options.on_head(head)) co_return error_code{};
  }

  const bool chunked = parser.chunked();
  std::vector<char> buf(16 * 1024);
  for (;;) {
    if (parser.is_done()) co_return error_code{};
    if (stopped(cs)) co_return asio::error::operation_aborted;
    auto& body = parser.get().body();
    if (!chunked) {
      body.data = buf.data();
      body.size = buf.size();
      body.more = true;
    }
    if (options.idle_timeout.count() > 0) conn.stream.expires_after(options.idle_timeout);
    else conn.stream.expires_never();
    auto [ec, n] = co_await http::async_read_some(conn.stream, conn.buffer, parser, kTuple);
    if (ec == http::error::need_buffer) ec = {};  // `buf` is full: hand it over, read on
    if (!chunked) {
      const std::size_t got = buf.size() - body.size;
      if (got > 0 && !on_piece(std::string_view(buf.data(), got))) co_return error_code{};
    }
    for (auto& piece : std::exchange(ready, {}))
      if (!on_piece(piece)) co_return error_code{};
    if (ec) co_return normalize(ec);
  }
}

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options, const core::Clock& clock)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), clock)) {}

HttpClient::~HttpClient() {
  impl_->closed = true;
  close_idle();
}

asio::awaitable<core::Result<ClientResponse>> HttpClient::request(std::string host_port, ClientRequest req,
                                                                  std::chrono::milliseconds timeout) {
  return Impl::request(impl_, std::move(host_port), std::move(req), timeout);
}

asio::awaitable<error_code> HttpClient::stream(std::string host_port, ClientRequest req,
                                               std::function<bool(std::string_view)> on_body_piece,
                                               StreamOptions options) {
  return Impl::stream(impl_, std::move(host_port), std::move(req), std::move(on_body_piece),
                      std::move(options));
}

void HttpClient::close_idle() { impl_->idle.clear(); }

std::size_t HttpClient::idle_connections() const { return impl_->idle.size(); }

}  // namespace failover::net
