// Replication's sender on a ManualClock: a peer that fails is retried after
// a back-off that doubles, and only when the clock has moved by it. The
// peer is a loopback stand-in; nothing sleeps.
#include "core/clock.h"
#include "registry/replication.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>

#include "async_test_util.h"
#include "net/http_server.h"
#include "support/manual_time.h"

namespace failover::registry {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

TEST(Replication, RetriesAFailingPeerOnlyAfterItsBackOffOnTheClock) {
  core::ManualClock clock;  // outlives the io_context
  asio::io_context io;
  const unsigned short port = test::free_port();
  int status = 503;
  int posts = 0;
  net::serve_http(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                  [&](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
                    if (req.target == "/v1/internal/replicate") ++posts;
                    co_return net::HttpResponse::json(status, "{}");
                  });
  Replication replication(io, {"http://127.0.0.1:" + std::to_string(port)}, "", clock);
  replication.start();
  Change change;
  change.service = "web";
  change.id = "a";
  change.spec = {.address = "10.0.0.1", .port = 8080, .ttl = 1000ms};
  change.lease_left = 1000ms;
  replication.send(change);

  // The one sleeper is then the back-off of `d` (a request in flight sleeps
  // on the same clock until its 2s deadline).
  auto backing_off = [&](int n, std::chrono::milliseconds d) {
    return posts == n && clock.sleepers() == 1 && clock.next_wake() - clock.now() == d;
  };
  ASSERT_TRUE(test::run_until(io, [&] { return backing_off(1, 100ms); }));
  EXPECT_FALSE(replication.peers()[0].reachable);
  EXPECT_EQ(replication.peers()[0].pending, 1u);  // kept for the retry

  test::run_for(io, clock, 99ms);
  EXPECT_EQ(posts, 1);
  test::run_for(io, clock, 1ms);
  ASSERT_TRUE(test::run_until(io, [&] { return backing_off(2, 200ms); }));  // doubled

  status = 200;
  test::run_for(io, clock, 200ms);
  ASSERT_TRUE(test::run_until(io, [&] { return posts == 3 && replication.peers()[0].reachable; }));
  EXPECT_EQ(replication.peers()[0].pending, 0u);
  EXPECT_EQ(replication.peers()[0].sent, 1u);
  EXPECT_EQ(clock.sleepers(), 0u);  // parked on its queue, not on the clock
}

}  // namespace
}  // namespace failover::registry
