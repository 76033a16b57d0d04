// test::Network, the in-memory network the store's replication tests build
// partitions with: what arrives, what is lost, and that a seed repeats a run.
#include "support/network.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace failover::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> payloads(const std::vector<Message>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.payload);
  return out;
}

using Strings = std::vector<std::string>;

TEST(Network, SendOnlyQueuesUntilDelivered) {
  Network net;
  net.send("a", "b", "hello");
  EXPECT_TRUE(net.inbox("b").empty());
  EXPECT_EQ(net.in_flight(), 1u);
  EXPECT_EQ(net.deliver_all(), 1u);
  EXPECT_EQ(net.take("b"), (std::vector<Message>{{"a", "b", "hello"}}));
  EXPECT_TRUE(net.inbox("b").empty()) << "take empties the inbox";
  EXPECT_EQ(net.in_flight(), 0u);
}

TEST(Network, DeliverOneTakesMessagesInSendOrder) {
  Network net;
  net.send("a", "b", "1");
  net.send("c", "b", "2");
  net.send("a", "c", "3");
  ASSERT_TRUE(net.deliver_one());
  EXPECT_EQ(payloads(net.take("b")), Strings{"1"});
  ASSERT_TRUE(net.deliver_one());
  ASSERT_TRUE(net.deliver_one());
  EXPECT_FALSE(net.deliver_one());
  EXPECT_EQ(payloads(net.take("b")), Strings{"2"});
  EXPECT_EQ(payloads(net.take("c")), Strings{"3"});
}

TEST(Network, CutMessagesNeverArriveInEitherDirection) {
  Network net;
  net.cut("a", "b");
  net.send("a", "b", "ab");
  net.send("b", "a", "ba");
  net.send("a", "c", "ac");  // other links stay up
  EXPECT_EQ(net.deliver_all(), 1u);
  EXPECT_TRUE(net.inbox("a").empty());
  EXPECT_TRUE(net.inbox("b").empty());
  EXPECT_EQ(payloads(net.take("c")), Strings{"ac"});
  EXPECT_EQ(net.dropped(), 2u);
  // Healing does not bring lost messages back.
  net.heal();
  EXPECT_EQ(net.deliver_all(), 0u);
  EXPECT_TRUE(net.inbox("b").empty());
}

TEST(Network, ACutLosesWhatWasInFlight) {
  Network net;
  net.send("a", "b", "sent before the cut");
  net.cut("a", "b");
  EXPECT_EQ(net.deliver_all(), 0u);
  EXPECT_TRUE(net.inbox("b").empty());
  EXPECT_EQ(net.dropped(), 1u);
}

TEST(Network, HealingRestoresDelivery) {
  Network net;
  net.cut("a", "b");
  net.isolate("c");
  net.drop("a", "d", 1.0);
  net.heal();
  net.send("a", "b", "ab");
  net.send("c", "a", "ca");
  net.send("a", "d", "ad");
  EXPECT_EQ(net.deliver_all(), 3u);
  EXPECT_EQ(payloads(net.take("b")), Strings{"ab"});
  EXPECT_EQ(payloads(net.take("a")), Strings{"ca"});
  EXPECT_EQ(payloads(net.take("d")), Strings{"ad"});
  EXPECT_EQ(net.dropped(), 0u);
}

TEST(Network, IsolatedNodeNeitherSendsNorReceivesButOthersTalk) {
  Network net;
  net.isolate("a");
  net.send("a", "b", "from a");
  net.send("b", "a", "to a");
  net.send("b", "c", "b to c");
  net.send("a", "a", "to itself");  // a node still reaches itself
  EXPECT_EQ(net.deliver_all(), 2u);
  EXPECT_EQ(payloads(net.take("a")), Strings{"to itself"});
  EXPECT_TRUE(net.inbox("b").empty());
  EXPECT_EQ(payloads(net.take("c")), Strings{"b to c"});
}

TEST(Network, DropIsOneDirectionAndRepeatsWithTheSeed) {
  auto run = [](std::uint64_t seed) {
    Network net(seed);
    net.drop("a", "b", 0.5);
    for (int i = 0; i < 200; ++i) {
      net.send("a", "b", std::to_string(i));
      net.send("b", "a", std::to_string(i));
    }
    net.deliver_all();
    EXPECT_EQ(net.take("a").size(), 200u) << "b to a is not dropped";
    return payloads(net.take("b"));
  };
  const Strings first = run(7);
  EXPECT_GT(first.size(), 60u);
  EXPECT_LT(first.size(), 140u);
  EXPECT_EQ(run(7), first);
  EXPECT_NE(run(8), first);
}

TEST(Network, DropOfZeroAndOneAreExact) {
  Network net;
  net.drop("a", "b", 0.0);
  net.drop("a", "c", 1.0);
  for (int i = 0; i < 50; ++i) {
    net.send("a", "b", "kept");
    net.send("a", "c", "lost");
  }
  net.deliver_all();
  EXPECT_EQ(net.take("b").size(), 50u);
  EXPECT_TRUE(net.inbox("c").empty());
  EXPECT_EQ(net.dropped(), 50u);
}

TEST(Network, DelayedMessagesWaitForTimeAndKeepTheirOrder) {
  Network net;
  net.delay("a", "b", 100ms);
  net.send("a", "b", "slow 1");
  net.send("a", "b", "slow 2");
  net.send("c", "b", "fast");
  EXPECT_EQ(net.deliver_all(), 1u);
  EXPECT_EQ(payloads(net.take("b")), Strings{"fast"});
  net.advance(99ms);
  EXPECT_EQ(net.deliver_all(), 0u);
  EXPECT_EQ(net.in_flight(), 2u);
  net.advance(1ms);
  EXPECT_EQ(net.deliver_all(), 2u);
  EXPECT_EQ(payloads(net.take("b")), (Strings{"slow 1", "slow 2"}));
}

TEST(Network, ADelayLetsALaterMessageOvertake) {
  Network net;
  net.delay("a", "b", 50ms);
  net.send("a", "b", "delayed");
  net.heal();  // the next one goes at once
  net.send("a", "b", "prompt");
  net.advance(50ms);
  net.deliver_all();
  EXPECT_EQ(payloads(net.take("b")), (Strings{"prompt", "delayed"}));
}

}  // namespace
}  // namespace failover::test
