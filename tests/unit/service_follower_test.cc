// client::follow_service on a ManualClock: a failed query is retried only
// when the clock has moved by the pause, and a stop ends the pause at once.
// The registry is a loopback stand-in; nothing sleeps.
#include "core/clock.h"
#include "client/service_follower.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "async_test_util.h"
#include "net/http_server.h"
#include "support/manual_time.h"

namespace failover::client {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Fixture {
  core::ManualClock clock;  // outlives the io_context: sleepers leave its list as their frames go
  asio::io_context io;
  unsigned short port = test::free_port();
  int status = 503;                   // what the registry answers
  std::vector<std::string> seen;      // targets it was asked for
  std::vector<std::optional<core::ErrorCode>> results;  // nullopt: ok
  std::stop_source stop;
  bool ended = false;
  std::unique_ptr<RegistryClient> client;

  Fixture() {
    net::serve_http(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                    [this](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
                      seen.push_back(req.target);
                      if (status == 200) co_return net::HttpResponse::json(200, R"({"index":7,"instances":[]})");
                      co_return net::HttpResponse::error(status, "down");
                    });
    client = std::make_unique<RegistryClient>(io.get_executor(),
                                              std::vector<std::string>{"http://127.0.0.1:" + std::to_string(port)},
                                              "", RegistryClientOptions{.clock = &clock});
  }

  void start() {
    auto on_result = [this](const ServiceResult& r) {
      results.push_back(r ? std::nullopt : std::optional(r.error().code));
      if (r) status = 503;  // the next query fails, so the loop pauses rather than spins
    };
    asio::co_spawn(io, follow_service(clock, *client, "web", stop.get_token(), on_result, {.wait = 30s, .retry_pause = 1s}),
                   [this](std::exception_ptr e) {
                     EXPECT_FALSE(e);
                     ended = true;
                   });
  }
  // The loop is parked in its pause: one sleeper, on this clock.
  bool pausing() const { return clock.sleepers() == 1; }
};

TEST(ServiceFollower, RetriesAFailedRegistryOnlyWhenTheClockPassesThePause) {
  Fixture f;
  const core::TimePoint t0 = f.clock.now();
  f.start();
  ASSERT_TRUE(test::run_until(f.io, [&] { return f.results.size() == 1 && f.pausing(); }));
  EXPECT_EQ(f.results[0], core::ErrorCode::kUnavailable);
  EXPECT_EQ(f.clock.next_wake(), t0 + 1s);

  test::run_for(f.io, f.clock, 999ms);
  EXPECT_EQ(f.seen.size(), 1u);  // still paused: the clock decides, not the wall
  EXPECT_TRUE(f.pausing());

  test::run_for(f.io, f.clock, 1ms);
  ASSERT_TRUE(test::run_until(f.io, [&] { return f.results.size() == 2 && f.pausing(); }));
  EXPECT_EQ(f.seen.size(), 2u);
  EXPECT_EQ(f.clock.next_wake(), t0 + 2s);
}

TEST(ServiceFollower, StartsFromTheIndexItWasGivenAndStopEndsThePause) {
  Fixture f;
  f.status = 200;
  f.start();
  // index 7 from the first answer, then the next query fails: a pause.
  ASSERT_TRUE(test::run_until(f.io, [&] { return f.results.size() == 2 && f.pausing(); }));
  EXPECT_EQ(f.results[0], std::nullopt);
  ASSERT_EQ(f.seen.size(), 2u);
  EXPECT_EQ(f.seen[0], "/v1/services/web?index=0&wait=30s");
  EXPECT_EQ(f.seen[1], "/v1/services/web?index=7&wait=30s");

  f.stop.request_stop();
  ASSERT_TRUE(test::run_until(f.io, [&] { return f.ended; }));
  EXPECT_EQ(f.clock.sleepers(), 0u);
  EXPECT_EQ(f.seen.size(), 2u);
}

}  // namespace
}  // namespace failover::client
