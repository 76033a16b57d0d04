#include "core/clock.h"
#include "client/resolver_policy.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace failover::client {
namespace {

using namespace std::chrono_literals;
using Ips = std::vector<std::string>;

TEST(ResolverOrder, RandomChoiceCoversEveryIp) {
  const Ips ips{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"};
  std::mt19937_64 rng(42);
  std::map<std::string, int> first;
  for (int i = 0; i < 400; ++i) ++first[connect_order(ips, {}, {}, 1, rng).at(0)];
  ASSERT_EQ(first.size(), ips.size());
  for (const auto& [ip, n] : first) EXPECT_GT(n, 50) << ip;  // about 100 each
}

TEST(ResolverOrder, NeverRepeatsAnIpAndStopsAtMaxAttempts) {
  const Ips ips{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.2"};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    const auto all = connect_order(ips, {}, {}, 10, rng);
    EXPECT_EQ(all.size(), 4u);
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
    EXPECT_EQ(connect_order(ips, {}, {}, 3, rng).size(), 3u);
  }
}

TEST(ResolverOrder, SameSeedSameOrder) {
  const Ips ips{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"};
  std::mt19937_64 a(99), b(99);
  EXPECT_EQ(connect_order(ips, {}, {}, 4, a), connect_order(ips, {}, {}, 4, b));
}

TEST(ResolverOrder, LeavesOutAvoidedIps) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(connect_order({"10.0.0.1", "10.0.0.2"}, {}, {"10.0.0.1"}, 5, rng), Ips{"10.0.0.2"});
  EXPECT_TRUE(connect_order({"10.0.0.1"}, {}, {"10.0.0.1"}, 5, rng).empty());
}

TEST(ResolverOrder, Ipv4BeforeIpv6) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) {
    const auto order = connect_order({"10.0.0.1", "10.0.0.2"}, {"::1", "::2"}, {}, 4, rng);
    ASSERT_EQ(order.size(), 4u);
    EXPECT_EQ(order[0].find(':'), std::string::npos);
    EXPECT_EQ(order[1].find(':'), std::string::npos);
    EXPECT_NE(order[2].find(':'), std::string::npos);
  }
}

TEST(ResolverServers, StartsWithTheFirstAndKeepsTheOneThatWorked) {
  core::ManualClock clock;
  ServerRotation r(3, 10s);
  EXPECT_EQ(r.order(clock.now()), (std::vector<std::size_t>{0, 1, 2}));
  r.succeeded(2);
  EXPECT_EQ(r.order(clock.now()), (std::vector<std::size_t>{2, 0, 1}));
}

TEST(ResolverServers, FailedServerGoesLastUntilItsBackoffEnds) {
  core::ManualClock clock;
  ServerRotation r(3, 10s);
  r.failed(0, clock.now());
  EXPECT_EQ(r.current(), 1u);
  EXPECT_EQ(r.order(clock.now()), (std::vector<std::size_t>{1, 2, 0}));
  r.succeeded(1);
  clock.advance(9'999ms);
  EXPECT_EQ(r.order(clock.now()), (std::vector<std::size_t>{1, 2, 0}));
  clock.advance(1ms);
  EXPECT_EQ(r.order(clock.now()), (std::vector<std::size_t>{1, 2, 0}));  // back in line, after current
  r.failed(1, clock.now());
  EXPECT_EQ(r.order(clock.now()), (std::vector<std::size_t>{2, 0, 1}));
}

TEST(ResolverServers, WhenAllFailedAllAreStillTriedOldestFailureFirst) {
  core::ManualClock clock;
  ServerRotation r(3, 10s);
  r.failed(1, clock.now());
  clock.advance(1s);
  r.failed(2, clock.now());
  clock.advance(1s);
  r.failed(0, clock.now());
  EXPECT_EQ(r.order(clock.now()), (std::vector<std::size_t>{1, 2, 0}));
}

}  // namespace
}  // namespace failover::client
