#include "health/probe.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "support/manual_time.h"

namespace failover::health {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What the canned server does with the one connection it accepts.
enum class Mode {
  kReply,   // reads the request, sends `reply`, then holds the socket until the prober leaves
  kReplyThenClose,  // the same, but closes right after the reply
  kSilent,  // reads the request and never answers
  kClose,   // closes as soon as it has accepted
};

class Probe : public ::testing::Test {
 protected:
  void serve(Mode mode, std::string reply = {}) {
    asio::co_spawn(ctx_, serve_one(mode, std::move(reply)), asio::detached);
  }

  ProbeResult run(const CheckConfig& check) { return run_against(endpoint(), check); }

  ProbeResult run_against(tcp::endpoint ep, const CheckConfig& check) {
    std::optional<ProbeResult> result;
    asio::co_spawn(ctx_, probe(ep, check), [&](std::exception_ptr e, ProbeResult r) {
      EXPECT_FALSE(e) << "probe threw";
      result = std::move(r);
      ctx_.stop();  // leaves the server coroutine behind; ~io_context reaps it
    });
    ctx_.run();
    EXPECT_TRUE(result.has_value());
    return result.value_or(ProbeResult{});
  }

  static CheckConfig http_check(std::chrono::milliseconds timeout = 2000ms) {
    CheckConfig c;
    c.enabled = true;
    c.type = CheckType::kHttp;
    c.uri = "/health";
    c.timeout = timeout;
    return c;
  }

  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  asio::io_context ctx_;
  tcp::acceptor acceptor_{ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string request_seen_;

 private:
  asio::awaitable<void> serve_one(Mode mode, std::string reply) {
    auto [accept_ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (accept_ec) co_return;
    if (mode == Mode::kClose) {
      socket.close();
      co_return;
    }
    std::string in;
    auto [read_ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n", kTuple);
    if (read_ec) co_return;
    request_seen_ = in.substr(0, n);
    if (mode != Mode::kSilent) co_await asio::async_write(socket, asio::buffer(reply), kTuple);
    if (mode == Mode::kReplyThenClose) co_return;
    // Hold the connection until the prober closes it, so that what the probe
    // saw is the reply, not our FIN.
    char byte;
    for (;;) {
      auto [ec, got] = co_await socket.async_read_some(asio::buffer(&byte, 1), kTuple);
      if (ec) co_return;
    }
  }
};

TEST_F(Probe, TcpConnectSucceeds) {
  serve(Mode::kSilent);
  CheckConfig check;
  check.type = CheckType::kTcp;
  const ProbeResult r = run(check);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.cause, Cause::kOk);
  EXPECT_TRUE(r.detail.empty());
}

TEST_F(Probe, ClosedPortIsRefused) {
  const tcp::endpoint ep = endpoint();
  acceptor_.close();
  for (CheckType type : {CheckType::kTcp, CheckType::kHttp}) {
    CheckConfig check = http_check();
    check.type = type;
    ctx_.restart();
    const ProbeResult r = run_against(ep, check);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.cause, Cause::kRefused) << r.detail;
    EXPECT_FALSE(r.detail.empty());
  }
}

TEST_F(Probe, HttpOkReplyPasses) {
  serve(Mode::kReply, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const ProbeResult r = run(http_check());
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.cause, Cause::kOk);
  EXPECT_EQ(r.status, 200);
}

TEST_F(Probe, HttpSendsGetWithHostAndConnectionClose) {
  serve(Mode::kReply, "HTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_TRUE(run(http_check()).ok);
  const std::string host = "127.0.0.1:" + std::to_string(endpoint().port());
  EXPECT_EQ(request_seen_, "GET /health HTTP/1.1\r\nHost: " + host +
                               "\r\nConnection: close\r\nUser-Agent: failover-check\r\n\r\n");
}

TEST_F(Probe, HttpUsesConfiguredHost) {
  serve(Mode::kReply, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CheckConfig check = http_check();
  check.host = "www.example.com";
  ASSERT_TRUE(run(check).ok);
  EXPECT_NE(request_seen_.find("\r\nHost: www.example.com\r\n"), std::string::npos) << request_seen_;
}

TEST_F(Probe, HttpSendsRawRequestVerbatim) {
  serve(Mode::kReply, "HTTP/1.0 200 OK\r\n\r\n");
  CheckConfig check = http_check();
  check.raw_request = "HEAD /ping HTTP/1.0\r\nX-Check: 1\r\n\r\n";
  ASSERT_TRUE(run(check).ok);
  EXPECT_EQ(request_seen_, check.raw_request);
}

TEST_F(Probe, HttpDoesNotWaitForTheBody) {
  // A huge body that never comes: the status line alone decides.
  serve(Mode::kReply, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial");
  const ProbeResult r = run(http_check(500ms));
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(Probe, HttpServerErrorIsBadStatus) {
  serve(Mode::kReply, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  const ProbeResult r = run(http_check());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.cause, Cause::kBadStatus);
  EXPECT_EQ(r.status, 500);
}

TEST_F(Probe, HttpStatusJudgedAgainstExpect) {
  serve(Mode::kReply, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  CheckConfig check = http_check();
  check.expect = kStatus5xx;
  const ProbeResult r = run(check);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.status, 503);
}

TEST_F(Probe, GarbageReplyIsBadResponse) {
  serve(Mode::kReply, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
  const ProbeResult r = run(http_check());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.cause, Cause::kBadResponse) << r.detail;
}

TEST_F(Probe, OversizedHeadersAreBadResponse) {
  serve(Mode::kReply, "HTTP/1.1 200 OK\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n");
  const ProbeResult r = run(http_check());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.cause, Cause::kBadResponse) << r.detail;
}

TEST_F(Probe, SilentServerTimesOutWhenTheClockPassesTheTimeout) {
  serve(Mode::kSilent);
  core::ManualClock clock;
  std::optional<ProbeResult> result;
  asio::co_spawn(ctx_, probe(endpoint(), http_check(200ms), clock), [&](std::exception_ptr e, ProbeResult r) {
    EXPECT_FALSE(e) << "probe threw";
    result = std::move(r);
  });
  // The request is in and the probe waits for its reply.
  ASSERT_TRUE(test::run_until(ctx_, [&] { return !request_seen_.empty(); }));
  test::run_for(ctx_, clock, 199ms);
  EXPECT_FALSE(result.has_value()) << "timed out before the clock reached the timeout";
  test::run_for(ctx_, clock, 1ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok);
  EXPECT_EQ(result->cause, Cause::kTimeout) << result->detail;
  EXPECT_EQ(result->detail, "timed out after 200ms");
  EXPECT_EQ(result->latency, 200ms);  // on the probe's clock
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST_F(Probe, AnswerBeforeTheTimeoutLeavesNoSleeperBehind) {
  serve(Mode::kReply, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  core::ManualClock clock;
  std::optional<ProbeResult> result;
  asio::co_spawn(ctx_, probe(endpoint(), http_check(200ms), clock), [&](std::exception_ptr e, ProbeResult r) {
    EXPECT_FALSE(e) << "probe threw";
    result = std::move(r);
  });
  ASSERT_TRUE(test::run_until(ctx_, [&] { return result.has_value(); }));
  EXPECT_TRUE(result->ok) << result->detail;
  EXPECT_EQ(result->latency, 0ms);  // the clock never moved
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST_F(Probe, ServerClosingAtOnceIsReset) {
  serve(Mode::kClose);
  const ProbeResult r = run(http_check());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.cause, Cause::kReset) << r.detail;
}

TEST_F(Probe, TruncatedHeadersAreReset) {
  // The process died mid-reply: not junk, just gone.
  serve(Mode::kReplyThenClose, "HTTP/1.1 200 OK\r\nX-A");
  const ProbeResult r = run(http_check());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.cause, Cause::kReset) << r.detail;
}

TEST(ProbeCause, NamesAreStable) {
  EXPECT_STREQ(cause_name(Cause::kOk), "ok");
  EXPECT_STREQ(cause_name(Cause::kRefused), "refused");
  EXPECT_STREQ(cause_name(Cause::kTimeout), "timeout");
  EXPECT_STREQ(cause_name(Cause::kReset), "reset");
  EXPECT_STREQ(cause_name(Cause::kBadStatus), "bad_status");
  EXPECT_STREQ(cause_name(Cause::kBadResponse), "bad_response");
  EXPECT_STREQ(cause_name(Cause::kError), "error");
}

}  // namespace
}  // namespace failover::health
