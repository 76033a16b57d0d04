// serve_http's handling of requests: heads (pipelined, HTTP/1.0, bad ones,
// one stalled past header_timeout) and bodies (Expect: 100-continue, chunked,
// the budget of bodies held over all connections, the body timeout). The
// two timeout tests wait for a real timer, 50 ms. Raw sockets on loopback,
// everything on one io_context.
#include "net/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <string>

#include "async_test_util.h"
#include "support/ports.h"

namespace failover::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Answer {
  int status = 0;
  std::string head;
  std::string body;
};

class HttpServerTest : public ::testing::Test {
 protected:
  // serve_http on a free port: "/hold" waits for release(), anything else
  // answers at once; both reply with the size of the body they got.
  void serve(HttpServerLimits limits) {
    port_ = test::start_on_free_port([&](const tcp::endpoint& at) {
      serve_http(io_, at,
                 [this](HttpRequest req) -> asio::awaitable<HttpResponse> {
                   if (req.path == "/hold") {
                     ++held_;
                     co_await gate_.async_wait(kTuple);
                   }
                   co_return HttpResponse::text(200, std::to_string(req.body.size()));
                 },
                 limits);
    });
  }

  void run(asio::awaitable<void> a) { test::run_to_end(io_, std::move(a)); }

  asio::awaitable<tcp::socket> connect() {
    tcp::socket s(io_);
    auto [ec] = co_await s.async_connect(test::loopback(port_), kTuple);
    EXPECT_FALSE(ec) << ec.message();
    co_return s;
  }

  // One response (a 100 Continue has no body); status 0 when the
  // connection closed first.
  static asio::awaitable<void> read_answer(tcp::socket& s, std::string& in, Answer& out) {
    out = Answer{};
    auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(in), "\r\n\r\n", kTuple);
    if (ec) co_return;
    out.head = in.substr(0, n);
    in.erase(0, n);
    out.status = std::stoi(out.head.substr(9, 3));
    const auto at = out.head.find("Content-Length: ");
    if (at == std::string::npos) co_return;
    const size_t length = std::stoul(out.head.substr(at + 16));
    if (in.size() < length) {
      auto [rec, rn] = co_await asio::async_read(s, asio::dynamic_buffer(in), asio::transfer_exactly(length - in.size()),
                                                 kTuple);
      if (rec) co_return;
    }
    out.body = in.substr(0, length);
    in.erase(0, length);
  }

  static asio::awaitable<void> send(tcp::socket& s, std::string_view data) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(data), kTuple);
    EXPECT_FALSE(ec) << ec.message();
  }

  // Lets the server run until `n` requests wait in "/hold" (bounded).
  asio::awaitable<void> until_held(int n) {
    for (int i = 0; i < 100'000 && held_ < n; ++i) co_await asio::post(io_, asio::use_awaitable);
    EXPECT_EQ(held_, n);
  }

  void release() { gate_.cancel(); }

  static std::string head(std::string_view path, size_t length, bool expect_continue) {
    return "PUT " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(length) + "\r\n" +
           (expect_continue ? "Expect: 100-continue\r\n" : "") + "\r\n";
  }

  asio::io_context io_;
  asio::steady_timer gate_{io_, asio::steady_timer::time_point::max()};
  int held_ = 0;
  unsigned short port_ = 0;
};

TEST_F(HttpServerTest, ExpectContinueGetsAContinueBeforeTheBody) {
  serve({});
  run([&]() -> asio::awaitable<void> {
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, head("/k", 5, true));
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.status, 100);
    co_await send(s, "hello");
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "5");
  }());
}

TEST_F(HttpServerTest, AnUploadPastTheBudgetGets503BeforeItsBodyAndTheRoomComesBack) {
  HttpServerLimits limits;
  limits.max_body_bytes_held = 100;
  serve(limits);
  run([&]() -> asio::awaitable<void> {
    tcp::socket first = co_await connect();
    co_await send(first, head("/hold", 80, false) + std::string(80, 'a'));
    co_await until_held(1);  // its 80 bytes are held until it is answered

    tcp::socket second = co_await connect();
    std::string in;
    Answer a;
    co_await send(second, head("/k", 30, true));
    co_await read_answer(second, in, a);
    EXPECT_EQ(a.status, 503);  // instead of 100 Continue: the body was never sent
    EXPECT_NE(a.head.find("Retry-After: 1"), std::string::npos) << a.head;
    EXPECT_NE(a.body.find("busy"), std::string::npos) << a.body;

    tcp::socket small = co_await connect();  // what fits still goes
    co_await send(small, head("/k", 20, false) + std::string(20, 'b'));
    co_await read_answer(small, in, a);
    EXPECT_EQ(a.status, 200);

    release();
    std::string first_in;
    co_await read_answer(first, first_in, a);
    EXPECT_EQ(a.body, "80");
    tcp::socket third = co_await connect();
    co_await send(third, head("/k", 30, false) + std::string(30, 'c'));
    co_await read_answer(third, in, a);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "30");
  }());
}

TEST_F(HttpServerTest, AChunkedBodyGrowingPastTheBudgetGets503) {
  HttpServerLimits limits;
  limits.max_body_bytes_held = 100;
  serve(limits);
  run([&]() -> asio::awaitable<void> {
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, "PUT /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; ++i) co_await send(s, "28\r\n" + std::string(40, 'x') + "\r\n");
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.status, 503);

    tcp::socket fits = co_await connect();  // the refused one gave its room back
    co_await send(fits, "PUT /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + std::string(40, 'x') +
                            "\r\n28\r\n" + std::string(40, 'x') + "\r\n0\r\n\r\n");
    co_await read_answer(fits, in, a);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "80");
  }());
}

TEST_F(HttpServerTest, AClientGoneMidUploadGivesItsRoomBack) {
  HttpServerLimits limits;
  limits.max_body_bytes_held = 100;
  serve(limits);
  run([&]() -> asio::awaitable<void> {
    {
      tcp::socket gone = co_await connect();
      co_await send(gone, head("/k", 80, false) + std::string(10, 'a'));
    }  // closed with 70 bytes unsent
    Answer a;
    for (int attempt = 0; attempt < 1000 && a.status != 200; ++attempt) {
      tcp::socket s = co_await connect();
      std::string in;
      co_await send(s, head("/k", 80, true));
      co_await read_answer(s, in, a);
      if (a.status != 100) continue;  // 503 until the server has seen the close
      co_await send(s, std::string(80, 'b'));
      co_await read_answer(s, in, a);
    }
    EXPECT_EQ(a.status, 200);
  }());
}

TEST_F(HttpServerTest, AStalledBodyIsClosedAndGivesItsRoomBack) {
  HttpServerLimits limits;
  limits.body_timeout = 50ms;
  limits.max_body_bytes_held = 10;
  serve(limits);
  run([&]() -> asio::awaitable<void> {
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, head("/k", 10, false) + "abc");
    co_await read_answer(s, in, a);  // the server's timer ends the wait
    EXPECT_EQ(a.status, 0);          // closed, nothing sent

    tcp::socket next = co_await connect();
    co_await send(next, head("/k", 10, false) + std::string(10, 'x'));
    co_await read_answer(next, in, a);
    EXPECT_EQ(a.status, 200);
  }());
}

TEST_F(HttpServerTest, AContentLengthOverTheLimitGets413AtOnce) {
  HttpServerLimits limits;
  limits.max_body_size = 10;
  serve(limits);
  run([&]() -> asio::awaitable<void> {
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, head("/k", 11, true));
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.status, 413);
  }());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrderWithTheirBodies) {
  serve({});
  run([&]() -> asio::awaitable<void> {
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, head("/k", 3, false) + "abc" + head("/k", 0, false) + head("/k", 5, false) + "12345");
    for (const char* size : {"3", "0", "5"}) {
      co_await read_answer(s, in, a);
      EXPECT_EQ(a.status, 200);
      EXPECT_EQ(a.body, size);
    }
  }());
}

TEST_F(HttpServerTest, AChunkedBodyArrivesWholeAndTheConnectionGoesOn) {
  serve({});
  run([&]() -> asio::awaitable<void> {
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, "PUT /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    co_await send(s, "4\r\ndefg\r\n0\r\n\r\n" + head("/k", 1, false) + "z");
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.body, "7");
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.body, "1");
  }());
}

TEST_F(HttpServerTest, AnHttp10ClientGetsKeepAliveOnlyWhenItAsks) {
  serve({});
  run([&]() -> asio::awaitable<void> {
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.head.substr(0, 12), "HTTP/1.0 200");
    EXPECT_NE(a.head.find("Connection: keep-alive"), std::string::npos);
    co_await send(s, "GET /k HTTP/1.0\r\n\r\n");
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.status, 200);
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.status, 0);  // closed after the answer
  }());
}

TEST_F(HttpServerTest, BadHeadsGetTheirStatusAndTheConnectionCloses) {
  HttpServerLimits limits;
  limits.max_header_size = 256;
  serve(limits);
  const std::pair<std::string, int> cases[] = {
      {"GET /k HTTP/1.1\r\n\r\n", 400},                                        // no Host
      {"GET /k HTTP/2.0\r\nHost: x\r\n\r\n", 505},                             // not HTTP/1.x
      {"GET /k HTTP/1.1\r\nHost: x\r\nX: " + std::string(300, 'a') + "\r\n\r\n", 431},
      {"PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"PUT /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},  // a coding we would have to undo
      {"PUT /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
  };
  run([&]() -> asio::awaitable<void> {
    for (const auto& [request, status] : cases) {
      tcp::socket s = co_await connect();
      std::string in;
      Answer a;
      co_await send(s, request);
      co_await read_answer(s, in, a);
      EXPECT_EQ(a.status, status) << request;
      co_await read_answer(s, in, a);
      EXPECT_EQ(a.status, 0) << request;  // closed
    }
  }());
}

TEST_F(HttpServerTest, AHeadStalledPastHeaderTimeoutGets408AndAnIdleConnectionStaysOpen) {
  HttpServerLimits limits;
  limits.header_timeout = 50ms;
  serve(limits);
  run([&]() -> asio::awaitable<void> {
    tcp::socket idle = co_await connect();  // sends nothing: idle_timeout (60 s) applies, not header_timeout
    tcp::socket s = co_await connect();
    std::string in;
    Answer a;
    co_await send(s, "GET /k HTTP/1.1\r\nHost: x\r\n");
    co_await read_answer(s, in, a);
    EXPECT_EQ(a.status, 408);
    std::string idle_in;
    co_await send(idle, "GET /k HTTP/1.1\r\nHost: x\r\n\r\n");
    co_await read_answer(idle, idle_in, a);
    EXPECT_EQ(a.status, 200);
  }());
}

}  // namespace
}  // namespace failover::net
