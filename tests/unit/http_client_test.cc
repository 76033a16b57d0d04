#include "net/http_client.h"

#include <gtest/gtest.h>

#include "async_test_util.h"
#include "support/ports.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/http_server.h"
#include "net/url.h"
#include "support/fake_http_server.h"
#include "support/manual_time.h"

namespace failover::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);


ClientRequest make_request(std::string method, std::string target, std::string body = "") {
  ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(kTuple);
}

// Reads one request head from a raw socket into `in`; false on error.
asio::awaitable<bool> read_head(tcp::socket& s, std::string& in) {
  auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(in), "\r\n\r\n", kTuple);
  if (ec) co_return false;
  in.erase(0, n);
  co_return true;
}

asio::awaitable<bool> write_all(tcp::socket& s, std::string_view data) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(data), kTuple);
  co_return !ec;
}

// An acceptor on a free port whose every connection goes to `on_connection`,
// for behaviours serve_http cannot show (silence, chunks with pauses).
class RawServer {
 public:
  using OnConnection = std::function<asio::awaitable<void>(tcp::socket, int n)>;
  RawServer(asio::io_context& io, OnConnection on_connection)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        on_connection_(std::move(on_connection)) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  int accepted() const { return accepted_; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, s] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), on_connection_(std::move(s), accepted_++), asio::detached);
    }
  }
  tcp::acceptor acceptor_;
  OnConnection on_connection_;
  int accepted_ = 0;
};

class HttpClientTest : public ::testing::Test {
 protected:
  // Runs `a` to completion on io_ (servers keep running between calls).
  template <class T>
  T run(asio::awaitable<T> a) {
    return test::run_to_end(io_, std::move(a));
  }

  // serve_http on a free port; every request's peer address goes to remotes_.
  std::string serve(HttpServerLimits limits = {}) {
    const unsigned short port = test::start_on_free_port([&](const tcp::endpoint& at) {
      serve_http(io_, at,
                 [this](HttpRequest req) -> asio::awaitable<HttpResponse> {
                   remotes_.insert(req.remote);
                   seen_.push_back(req);
                   co_return HttpResponse::text(200, req.method + " " + req.target + " " + req.body);
                 },
                 limits);
    });
    return test::host_port(port);
  }

  asio::io_context io_;
  std::set<std::string> remotes_;  // one per connection the server saw
  std::vector<HttpRequest> seen_;
};

TEST_F(HttpClientTest, ReusesOneKeptConnectionForSequentialRequests) {
  const auto host = serve();
  HttpClient client(io_.get_executor());
  for (int i = 0; i < 3; ++i) {
    auto r = run(client.request(host, make_request("PUT", "/x?i=" + std::to_string(i), "{}"), 2s));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "PUT /x?i=" + std::to_string(i) + " {}");
    EXPECT_EQ(r->header("content-type"), "text/plain; charset=utf-8");
  }
  EXPECT_EQ(remotes_.size(), 1u);
  EXPECT_EQ(client.idle_connections(), 1u);
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[0].header("Host"), host);
  EXPECT_EQ(seen_[0].header("Content-Type"), "application/json");
}

TEST_F(HttpClientTest, SendsExtraHeaders) {
  const auto host = serve();
  HttpClient client(io_.get_executor());
  auto req = make_request("GET", "/h");
  req.headers = {{"Authorization", "Bearer t"}};
  auto r = run(client.request(host, req, 2s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].header("authorization"), "Bearer t");
}

TEST_F(HttpClientTest, TimesOutWhenTheClockPassesTheDeadline) {
  bool got_request = false;
  RawServer silent(io_, [&](tcp::socket s, int) -> asio::awaitable<void> {
    std::string in;
    got_request = co_await read_head(s, in);
    co_await sleep_for(1h);  // holds the socket and answers nothing
  });
  core::ManualClock clock;
  HttpClient client(io_.get_executor(), {}, clock);
  std::optional<core::Result<ClientResponse>> r;
  asio::co_spawn(io_, client.request(silent.host_port(), {}, 200ms),
                 [&](std::exception_ptr e, core::Result<ClientResponse> v) {
                   EXPECT_FALSE(e);
                   r = std::move(v);
                 });
  ASSERT_TRUE(test::run_until(io_, [&] { return got_request; }));
  test::run_for(io_, clock, 199ms);
  EXPECT_FALSE(r.has_value()) << "timed out before the clock reached the deadline";
  test::run_for(io_, clock, 1ms);
  ASSERT_TRUE(r.has_value());
  // Sent, then no answer: the outcome is unknown.
  EXPECT_TRUE(r->is(core::ErrorCode::kTimeout)) << r->error().to_string();
  EXPECT_NE(r->error().message.find("timed out after 200ms"), std::string::npos) << r->error().message;
  EXPECT_EQ(client.idle_connections(), 0u);
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST_F(HttpClientTest, AnAnswerBeforeTheDeadlineLeavesNoSleeperBehind) {
  const auto host = serve();
  core::ManualClock clock;
  HttpClient client(io_.get_executor(), {}, clock);
  auto r = run(client.request(host, make_request("GET", "/"), 2s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST_F(HttpClientTest, ConnectionClosedAfterTheRequestWasSentIsOutcomeUnknown) {
  // The server reads the request and hangs up without a reply: it may have
  // acted on it, so this must not look like "never sent".
  test::FakeHttpServer closing(io_);
  closing.close(true);
  HttpClient client(io_.get_executor());
  auto r = run(client.request(closing.host_port(), make_request("POST", "/cas", "{}"), 2s));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.is(core::ErrorCode::kTimeout)) << r.error().to_string();
  EXPECT_EQ(r.error().message.rfind("read from " + closing.host_port() + ": ", 0), 0u) << r.error().message;
  EXPECT_EQ(closing.seen().size(), 1u);
}

TEST_F(HttpClientTest, CancelledRequestIsCancelled) {
  bool got_request = false;
  RawServer silent(io_, [&](tcp::socket s, int) -> asio::awaitable<void> {
    std::string in;
    got_request = co_await read_head(s, in);
    co_await sleep_for(1h);
  });
  core::ManualClock clock;
  HttpClient client(io_.get_executor(), {}, clock);
  asio::cancellation_signal cancel;
  std::optional<core::Result<ClientResponse>> r;
  asio::co_spawn(io_, client.request(silent.host_port(), {}, 10s),
                 asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, core::Result<ClientResponse> v) {
                   EXPECT_FALSE(e) << "the request threw";
                   r = std::move(v);
                 }));
  ASSERT_TRUE(test::run_until(io_, [&] { return got_request; }));
  cancel.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(test::run_until(io_, [&] { return r.has_value(); }));
  EXPECT_TRUE(r->is(core::ErrorCode::kCancelled)) << r->error().to_string();
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST_F(HttpClientTest, ReconnectsAfterServerClosedIdleConnection) {
  HttpServerLimits limits;
  limits.idle_timeout = 50ms;  // the server drops kept connections quickly
  const auto host = serve(limits);
  HttpClient client(io_.get_executor());
  ASSERT_TRUE(run(client.request(host, make_request("GET", "/1"), 2s)).ok());
  run([]() -> asio::awaitable<int> { co_await sleep_for(200ms); co_return 0; }());
  auto r = run(client.request(host, make_request("GET", "/2"), 2s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "GET /2 ");
  EXPECT_EQ(remotes_.size(), 2u);
}

TEST_F(HttpClientTest, ResendsWhenKeptConnectionClosesUnderTheRequest) {
  // The first connection answers once, then reads the next request and
  // closes without a byte of answer (a server's idle timeout racing the
  // request); the second connection answers.
  RawServer server(io_, [](tcp::socket s, int n) -> asio::awaitable<void> {
    std::string in;
    for (int served = 0;; ++served) {
      if (!co_await read_head(s, in)) co_return;
      if (n == 0 && served == 1) co_return;  // closes the socket
      co_await write_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  HttpClient client(io_.get_executor());
  ASSERT_TRUE(run(client.request(server.host_port(), {}, 2s)).ok());
  auto r = run(client.request(server.host_port(), make_request("POST", "/", "{}"), 2s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(server.accepted(), 2);
}

TEST_F(HttpClientTest, RefusedConnectionIsAnErrorValue) {
  HttpClient client(io_.get_executor());
  const test::RefusingPort refusing(io_);
  const std::string host = refusing.host_port();
  auto r = run(client.request(host, {}, 2s));
  ASSERT_FALSE(r.ok());
  // Refused: certainly never sent.
  EXPECT_TRUE(r.is(core::ErrorCode::kUnavailable)) << r.error().to_string();
  EXPECT_EQ(r.error().message.rfind("connect " + host + ": ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
}

TEST_F(HttpClientTest, BodyOverTheLimitIsAnError) {
  RawServer server(io_, [](tcp::socket s, int) -> asio::awaitable<void> {
    std::string in;
    if (!co_await read_head(s, in)) co_return;
    co_await write_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x'));
    co_await sleep_for(1s);
  });
  HttpClientOptions options;
  options.max_body_size = 1000;
  HttpClient client(io_.get_executor(), options);
  auto r = run(client.request(server.host_port(), {}, 2s));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.is(core::ErrorCode::kTimeout)) << r.error().to_string();  // sent: outcome unknown
  EXPECT_NE(r.error().message.find("body limit"), std::string::npos) << r.error().message;
  EXPECT_EQ(client.idle_connections(), 0u);
}

// Writes a chunked response one chunk at a time, each only after the client
// has received the previous one, so the test proves pieces arrive as they
// are written rather than at the end. The second chunk is split across two
// writes to show it is still handed over whole.
TEST_F(HttpClientTest, StreamDeliversEachChunkAsItArrives) {
  std::vector<std::string> pieces;
  std::string request_seen;
  RawServer server(io_, [&](tcp::socket s, int) -> asio::awaitable<void> {
    std::string in;
    if (!co_await read_head(s, in)) co_return;
    request_seen = in;
    co_await write_all(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    auto wait_for = [&](std::size_t n) -> asio::awaitable<void> {
      for (int i = 0; i < 200 && pieces.size() < n; ++i) co_await sleep_for(10ms);
    };
    co_await write_all(s, "8\r\n{\"a\":1}\n\r\n");
    co_await wait_for(1);
    co_await write_all(s, "8\r\n{\"b\"");
    co_await sleep_for(30ms);
    co_await write_all(s, ":2}\n\r\n");
    co_await wait_for(2);
    co_await write_all(s, "0\r\n\r\n");
  });
  HttpClient client(io_.get_executor());
  auto ec = run(client.stream(server.host_port(), make_request("POST", "/v3/watch", "{}"),
                              [&](std::string_view p) {
                                pieces.emplace_back(p);
                                return true;
                              }));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(pieces, (std::vector<std::string>{"{\"a\":1}\n", "{\"b\":2}\n"}));
}

TEST_F(HttpClientTest, StreamStopsWhenTheCallbackSaysSo) {
  RawServer server(io_, [](tcp::socket s, int) -> asio::awaitable<void> {
    std::string in;
    if (!co_await read_head(s, in)) co_return;
    co_await write_all(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    while (co_await write_all(s, "2\r\n{}\r\n")) co_await sleep_for(10ms);  // forever
  });
  HttpClient client(io_.get_executor());
  int calls = 0;
  auto ec = run(client.stream(server.host_port(), {}, [&](std::string_view) { return ++calls < 3; }));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(calls, 3);
}

TEST_F(HttpClientTest, StreamEndsWhenCancelled) {
  using namespace asio::experimental::awaitable_operators;
  RawServer server(io_, [](tcp::socket s, int) -> asio::awaitable<void> {
    std::string in;
    if (!co_await read_head(s, in)) co_return;
    co_await write_all(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    co_await sleep_for(5s);  // a quiet watch
  });
  HttpClient client(io_.get_executor());
  const auto start = std::chrono::steady_clock::now();
  auto which = run([&]() -> asio::awaitable<std::size_t> {
    // The operands are made before the co_await: GCC 12.2 destroys a braced
    // temporary (the `{}` request) inside a co_await expression twice.
    auto stream = client.stream(server.host_port(), {}, [](std::string_view) { return true; });
    auto timer = sleep_for(100ms);
    auto r = co_await (std::move(stream) || std::move(timer));
    co_return r.index();
  }());
  EXPECT_EQ(which, 1u);  // the timer won, and `||` waited for the stream to end
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(HttpClientTest, StreamShowsTheStatusAndPlainBodies) {
  RawServer server(io_, [](tcp::socket s, int) -> asio::awaitable<void> {
    std::string in;
    if (!co_await read_head(s, in)) co_return;
    co_await write_all(s, "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!");
    co_await sleep_for(1s);
  });
  HttpClient client(io_.get_executor());
  int status = 0;
  std::string body;
  StreamOptions options;
  options.on_head = [&](const ClientResponse& head) {
    status = head.status;
    return true;
  };
  auto ec = run(client.stream(server.host_port(), {},
                              [&](std::string_view p) {
                                body += p;
                                return true;
                              },
                              options));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body, "nope!");
}

TEST(Url, SplitsHostPortAndBasePath) {
  auto u = parse_http_url("http://127.0.0.1:8500/prefix/");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host_port, "127.0.0.1:8500");
  EXPECT_EQ(u->base_path, "/prefix");

  u = parse_http_url("HTTP://registry.local");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host_port, "registry.local:80");
  EXPECT_EQ(u->base_path, "");

  u = parse_http_url("http://[::1]:2379/");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host_port, "[::1]:2379");
  EXPECT_EQ(u->base_path, "");

  u = parse_http_url("http://[::1]");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host_port, "[::1]:80");
}

TEST(Url, RefusesHttpsAndMalformedUrls) {
  auto https = parse_http_url("https://127.0.0.1:8500");
  ASSERT_FALSE(https.ok());
  EXPECT_TRUE(https.is(core::ErrorCode::kInvalid));
  EXPECT_NE(https.error().message.find("https is not supported"), std::string::npos) << https.error().message;
  for (const char* bad : {"", "127.0.0.1:8500", "ftp://x:1", "http://", "http://:80", "http://h:0",
                          "http://h:65536", "http://h:x", "http://h:80?q=1", "http://h:80/p#f",
                          "http://u@h:80", "http://h :80", "http://[::1:80", "http://::1:80",
                          "http://h:80/a b"}) {
    auto r = parse_http_url(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.is(core::ErrorCode::kInvalid)) << bad;
    EXPECT_NE(r.error().message.find("bad URL"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace failover::net
