// Which DNS-over-TCP connection a new one pushes out at a limit: the one idle
// the longest, of its own client at the per-client limit, of anyone at the
// total; refused only when none of those is idle.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "dns/tcp_connections.h"

namespace failover::dns {
namespace {

using namespace std::chrono_literals;
using Address = TcpConnectionTable::Address;

const Address kA = boost::asio::ip::make_address("10.0.0.1");
const Address kB = boost::asio::ip::make_address("10.0.0.2");
const Address kC = boost::asio::ip::make_address("2001:db8::1");

TcpConnectionTable::Id admitted(TcpConnectionTable& t, const Address& client, core::TimePoint now) {
  const auto a = t.admit(client, now);
  EXPECT_TRUE(a.accepted);
  EXPECT_FALSE(a.evicted);
  return a.id;
}

TEST(TcpConnectionTable, AdmitsUnderTheLimitsWithoutEvicting) {
  core::ManualClock clock;
  TcpConnectionTable t(3, 2);
  admitted(t, kA, clock.now());
  admitted(t, kB, clock.now());
  admitted(t, kA, clock.now());
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.count(kA), 2u);
  EXPECT_EQ(t.idle(), 3u);  // a new connection has no query in progress
}

TEST(TcpConnectionTable, FullServerEvictsTheConnectionIdleLongest) {
  core::ManualClock clock;
  TcpConnectionTable t(3, 3);
  const auto first = admitted(t, kA, clock.now());
  clock.advance(1s);
  const auto second = admitted(t, kB, clock.now());
  clock.advance(1s);
  admitted(t, kA, clock.now());
  // The oldest one answers a query: the next oldest idle one goes instead.
  t.set_busy(first);
  clock.advance(1s);
  t.set_idle(first, clock.now());
  const auto a = t.admit(kC, clock.now());
  EXPECT_TRUE(a.accepted);
  EXPECT_EQ(a.evicted, second);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.contains(second));
  EXPECT_EQ(t.count(kB), 0u);
}

TEST(TcpConnectionTable, ClientAtItsLimitEvictsItsOwnOldestIdleNotOthers) {
  core::ManualClock clock;
  TcpConnectionTable t(10, 2);
  const auto other = admitted(t, kB, clock.now());  // idle longest of all
  clock.advance(1s);
  const auto oldest = admitted(t, kA, clock.now());
  clock.advance(1s);
  admitted(t, kA, clock.now());
  const auto a = t.admit(kA, clock.now());
  EXPECT_TRUE(a.accepted);
  EXPECT_EQ(a.evicted, oldest);
  EXPECT_TRUE(t.contains(other));
  EXPECT_EQ(t.count(kA), 2u);
}

TEST(TcpConnectionTable, FloodFromOneClientNeverLocksOutAFreshQuery) {
  core::ManualClock clock;
  TcpConnectionTable t(512, 64);
  for (int i = 0; i < 600; ++i) {
    EXPECT_TRUE(t.admit(kA, clock.now()).accepted);
    clock.advance(1ms);
  }
  EXPECT_EQ(t.count(kA), 64u);
  // Each fresh query's connection gets in and stays until it has been answered.
  for (int i = 0; i < 20; ++i) {
    const auto fresh = t.admit(kA, clock.now());
    ASSERT_TRUE(fresh.accepted);
    t.set_busy(fresh.id);  // its query arrives
    for (int j = 0; j < 100; ++j) EXPECT_TRUE(t.admit(kA, clock.now()).accepted);  // the flood goes on
    EXPECT_TRUE(t.contains(fresh.id));
    t.remove(fresh.id);  // answered; the client closes
  }
  EXPECT_LE(t.count(kA), 64u);
}

TEST(TcpConnectionTable, RefusesWhenNothingThatCouldMakeRoomIsIdle) {
  core::ManualClock clock;
  TcpConnectionTable t(2, 1);
  const auto a = admitted(t, kA, clock.now());
  t.set_busy(a);
  // kA's limit: its only connection is busy; an idle one of kB does not help.
  const auto b = admitted(t, kB, clock.now());
  EXPECT_FALSE(t.admit(kA, clock.now()).accepted);
  // The total: both busy.
  t.set_busy(b);
  EXPECT_FALSE(t.admit(kC, clock.now()).accepted);
  EXPECT_EQ(t.size(), 2u);
  // Once one is idle again it makes room.
  t.set_idle(a, clock.now());
  const auto c = t.admit(kC, clock.now());
  EXPECT_TRUE(c.accepted);
  EXPECT_EQ(c.evicted, a);
}

TEST(TcpConnectionTable, StillIdleKeepsItsEarlierTime) {
  core::ManualClock clock;
  TcpConnectionTable t(2, 2);
  const auto first = admitted(t, kA, clock.now());
  clock.advance(1s);
  admitted(t, kA, clock.now());
  clock.advance(1s);
  t.set_idle(first, clock.now());  // idle since the start, still
  EXPECT_EQ(t.admit(kA, clock.now()).evicted, first);
}

TEST(TcpConnectionTable, AnsweringAQueryMakesAConnectionTheNewestIdle) {
  core::ManualClock clock;
  TcpConnectionTable t(2, 2);
  const auto first = admitted(t, kA, clock.now());
  clock.advance(1s);
  const auto second = admitted(t, kA, clock.now());
  clock.advance(1s);
  t.set_busy(first);
  t.set_idle(first, clock.now());
  EXPECT_EQ(t.admit(kA, clock.now()).evicted, second);
}

TEST(TcpConnectionTable, ClosedAndEvictedConnectionsLeaveNothingBehind) {
  core::ManualClock clock;
  TcpConnectionTable t(1, 1);
  const auto a = admitted(t, kA, clock.now());
  const auto b = t.admit(kB, clock.now());
  ASSERT_EQ(b.evicted, a);
  t.remove(a);  // the evicted session ends later: ignored
  t.set_busy(a);
  t.set_idle(a, clock.now());
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.count(kA), 0u);
  t.remove(b.id);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.idle(), 0u);
  EXPECT_FALSE(t.evict_oldest_idle());
}

TEST(TcpConnectionTable, OutOfDescriptorsEvictsTheOldestIdleOfAnyone) {
  core::ManualClock clock;
  TcpConnectionTable t(10, 10);
  const auto busy = admitted(t, kA, clock.now());
  t.set_busy(busy);
  clock.advance(1s);
  const auto idle = admitted(t, kB, clock.now());
  EXPECT_EQ(t.evict_oldest_idle(), idle);
  EXPECT_FALSE(t.evict_oldest_idle());
  EXPECT_TRUE(t.contains(busy));
}

}  // namespace
}  // namespace failover::dns
