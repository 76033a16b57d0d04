// client::StoreClient against two fake nodes: redirects to the primary,
// 503 rounds that honour Retry-After, refused and dropped connections, the
// idempotency key reused by retries, the deadline, and each status's error.
// Time is a ManualClock: the waits between rounds never sleep for real.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>

#include "async_test_util.h"
#include "client/store_client.h"
#include "core/clock.h"
#include "support/fake_http_server.h"
#include "support/manual_time.h"

namespace failover::client {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using test::FakeHttpServer;

net::HttpResponse with_headers(net::HttpResponse r, std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& h : headers) r.headers.push_back(std::move(h));
  return r;
}

net::HttpResponse value(std::string v, std::uint64_t version) {
  net::HttpResponse r = net::HttpResponse::text(200, std::move(v));
  r.headers.emplace_back("ETag", "\"" + std::to_string(version) + "\"");
  return r;
}

net::HttpResponse written(std::uint64_t version) {
  return with_headers(net::HttpResponse::json(200, "{}"),
                      {{"ETag", "\"" + std::to_string(version) + "\""}, {"X-Epoch", "2"}, {"X-Seq", std::to_string(version)}});
}

net::HttpResponse unavailable(std::string retry_after = "1") {
  return with_headers(net::HttpResponse::error(503, "no primary"), {{"Retry-After", retry_after}, {"X-Reason", "no primary"}});
}

std::string header(const net::HttpRequest& r, std::string_view name) { return std::string(r.header(name)); }

class StoreClientTest : public ::testing::Test {
 protected:
  StoreClient make(StoreClientOptions options = {}) {
    options.clock = &clock_;
    return StoreClient(io_.get_executor(), {a_.url(), b_.url()}, std::move(options));
  }

  // Runs `call` to its end: real I/O with the fake nodes, and the manual
  // clock moved to the next wake-up whenever the client waits on it.
  template <class T>
  T run(asio::awaitable<T> call) {
    std::optional<T> out;
    asio::co_spawn(io_, std::move(call), [&](std::exception_ptr e, T v) {
      EXPECT_FALSE(e) << "the call threw";
      out = std::move(v);
    });
    for (int steps = 0; !out && steps < 1000; ++steps) {
      auto waiting = [&] { return clock_.sleepers() > 0 && clock_.next_wake() > clock_.now(); };
      if (!test::run_until(io_, [&] { return out.has_value() || waiting(); })) break;
      if (out) break;
      const auto step = clock_.next_wake() - clock_.now();
      waited_ += std::chrono::duration_cast<milliseconds>(step);
      clock_.advance(step);
    }
    EXPECT_TRUE(out.has_value()) << "the call never ended";
    return std::move(out).value_or(T{});
  }

  asio::io_context io_;
  core::ManualClock clock_;
  milliseconds waited_{0};  // how far run() moved the clock
  FakeHttpServer a_{io_};
  FakeHttpServer b_{io_};
};

TEST_F(StoreClientTest, FollowsARedirectToThePrimaryAndStaysThere) {
  a_.reply([&](const net::HttpRequest& r) {
    return with_headers(net::HttpResponse::error(307, "the primary is b"),
                        {{"Location", b_.url() + r.target}, {"X-Primary", "b"}});
  });
  b_.reply([](const net::HttpRequest&) { return value("hello", 7); });
  StoreClient client = make();
  auto got = run(client.get("user/1"));
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->value, "hello");
  EXPECT_EQ(got->version, 7u);
  ASSERT_EQ(b_.seen().size(), 1u);
  EXPECT_EQ(b_.seen()[0].target, "/kv/user%2F1");
  EXPECT_EQ(client.current(), b_.url());
  auto again = run(client.get("user/1"));  // straight to b now
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(a_.seen().size(), 1u);
  EXPECT_EQ(waited_, milliseconds(0));
}

TEST_F(StoreClientTest, WaitsRetryAfterOnceEveryNodeSaid503) {
  int calls = 0;
  a_.reply([&](const net::HttpRequest&) { return ++calls == 1 ? unavailable() : written(5); });
  b_.reply([](const net::HttpRequest&) { return unavailable(); });
  StoreClient client = make();
  auto put = run(client.put("k", "v"));
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(put->version, 5u);
  EXPECT_EQ(put->epoch, 2u);
  EXPECT_EQ(put->seq, 5u);
  EXPECT_EQ(a_.seen().size(), 2u);
  EXPECT_EQ(b_.seen().size(), 1u);
  EXPECT_EQ(waited_, milliseconds(1000));  // Retry-After: 1, once, after the round
}

TEST_F(StoreClientTest, CapsALongRetryAfter) {
  int calls = 0;
  a_.reply([&](const net::HttpRequest&) { return ++calls == 1 ? unavailable("60") : value("v", 1); });
  b_.reply([](const net::HttpRequest&) { return unavailable("60"); });
  StoreClient client = make({.max_retry_after = milliseconds(200)});
  EXPECT_TRUE(run(client.get("k")).ok());
  EXPECT_EQ(waited_, milliseconds(200));
}

TEST_F(StoreClientTest, ARefusedNodeIsSkippedAtOnce) {
  a_.refuse(true);
  b_.reply([](const net::HttpRequest&) { return written(9); });
  StoreClient client = make();
  auto put = run(client.put("k", "v"));
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(b_.seen().size(), 1u);
  EXPECT_EQ(b_.seen()[0].body, "v");
  EXPECT_EQ(client.current(), b_.url());
  EXPECT_EQ(waited_, milliseconds(0));
}

TEST_F(StoreClientTest, ARetriedWriteCarriesTheSameIdempotencyKey) {
  a_.close(true);  // reads the PUT, hangs up: the write may or may not have happened
  b_.reply([](const net::HttpRequest&) { return written(3); });
  StoreClient client = make();
  ASSERT_TRUE(run(client.put("k", "v")).ok());
  ASSERT_EQ(a_.seen().size(), 1u);
  ASSERT_EQ(b_.seen().size(), 1u);
  const std::string key = header(a_.seen()[0], "Idempotency-Key");
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(header(b_.seen()[0], "Idempotency-Key"), key);
  ASSERT_TRUE(run(client.put("k", "w")).ok());  // another write, another key
  EXPECT_NE(header(b_.seen()[1], "Idempotency-Key"), key);
}

TEST_F(StoreClientTest, GivesUpWithATimeoutAtTheDeadline) {
  a_.refuse(true);
  b_.reply([](const net::HttpRequest&) { return unavailable(); });
  StoreClient client = make({.deadline = milliseconds(2500)});
  auto got = run(client.get("k"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, core::ErrorCode::kTimeout);
  EXPECT_NE(got.error().message.find("503"), std::string::npos) << got.error().message;
  EXPECT_EQ(waited_, milliseconds(2500));  // waits of 1 s, 1 s, then the 0.5 s left
  EXPECT_EQ(b_.seen().size(), 3u);
}

TEST_F(StoreClientTest, BacksOffBetweenRoundsOfConnectionFailures) {
  a_.refuse(true);
  b_.refuse(true);
  StoreClient client = make({.deadline = milliseconds(400), .first_backoff = milliseconds(50)});
  auto got = run(client.get("k"));
  EXPECT_TRUE(got.is(core::ErrorCode::kTimeout));
  EXPECT_EQ(waited_, milliseconds(400));  // 50 + 100 + 200, then the 50 left
}

TEST_F(StoreClientTest, MapsTheApiStatusesToErrors) {
  StoreClient client = make();
  a_.answer(404, R"({"error":"no key k"})");
  auto missing = run(client.get("k"));
  EXPECT_TRUE(missing.is(core::ErrorCode::kNotFound));
  EXPECT_NE(missing.error().message.find("no key k"), std::string::npos);

  a_.answer(412, R"({"error":"the key is at version 4"})");
  EXPECT_TRUE(run(client.put("k", "v", {.if_match = 3})).is(core::ErrorCode::kConflict));
  EXPECT_EQ(header(a_.seen().back(), "If-Match"), "\"3\"");
  EXPECT_TRUE(run(client.del("k", {.if_match = std::nullopt, .if_none_match = true})).is(core::ErrorCode::kConflict));
  EXPECT_EQ(header(a_.seen().back(), "If-None-Match"), "*");
  EXPECT_EQ(a_.seen().back().method, "DELETE");

  a_.answer(413, R"({"error":"too large"})");
  EXPECT_TRUE(run(client.put("k", "v")).is(core::ErrorCode::kInvalid));
  a_.answer(500, R"({"error":"bug"})");
  EXPECT_TRUE(run(client.get("k")).is(core::ErrorCode::kUnavailable));
  a_.answer(200, "{}");  // a write reply without its headers
  EXPECT_TRUE(run(client.put("k", "v")).is(core::ErrorCode::kInvalid));
  EXPECT_TRUE(b_.seen().empty());  // none of these is a reason to try another node
}

TEST_F(StoreClientTest, ListsAPageAndDecodesBase64Values) {
  a_.answer(200, R"({"items":[{"key":"p/1","version":3,"value":"text"},)"
                 R"({"key":"p/2","version":4,"value_base64":"/wA="},)"
                 R"({"key":"p/3","version":5,"value_bytes":1048576}],"more":true,"next":"p/3"})");
  StoreClient client = make();
  auto page = run(client.list("p/", "p/0", 2));
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_EQ(a_.seen()[0].target, "/kv/?prefix=p%2F&after=p%2F0&limit=2");
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].value, "text");
  EXPECT_FALSE(page->items[0].value_bytes);
  EXPECT_EQ(page->items[1].value, std::string("\xFF\x00", 2));
  EXPECT_EQ(page->items[1].version, 4u);
  EXPECT_EQ(page->items[2].value, "");  // left out by the node: get() it
  EXPECT_EQ(page->items[2].value_bytes, 1u << 20);
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->next, "p/3");
  a_.answer(200, R"({"items":[{"key":"p/1"}],"more":false})");
  EXPECT_TRUE(run(client.list("p/")).is(core::ErrorCode::kInvalid));
}

TEST(StoreClientUrl, PercentEncodesEverythingButUnreserved) {
  EXPECT_EQ(percent_encode("user/1 \xC3\xA9"), "user%2F1%20%C3%A9");
  EXPECT_EQ(percent_encode("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(percent_encode("%?#&="), "%25%3F%23%26%3D");
}

TEST(StoreClientUrl, RefusesABadNodeList) {
  asio::io_context io;
  EXPECT_THROW(StoreClient(io.get_executor(), {}), std::invalid_argument);
  EXPECT_THROW(StoreClient(io.get_executor(), {"https://a:1"}), std::invalid_argument);
}

}  // namespace
}  // namespace failover::client
