#include "store/vip.h"

#include <gtest/gtest.h>

namespace failover::store {
namespace {

using namespace std::chrono_literals;
using Step = VipPlan::Step;
using Steps = std::vector<Step>;

const core::TimePoint t0 = core::TimePoint(1h);

TEST(VipPlan, TakenWhenServingAnnouncedAgainAndGivenUpWhenNot) {
  VipPlan plan;
  EXPECT_EQ(plan.tick(t0, false), Steps{});
  EXPECT_EQ(plan.tick(t0, true), (Steps{Step::kAdd, Step::kAnnounce}));
  EXPECT_TRUE(plan.held());
  // Each later announcement once, on the first tick at or after its time.
  int announced = 1;
  for (auto t = t0 + 10ms; t <= t0 + 3s; t += 10ms)
    for (Step s : plan.tick(t, true)) {
      EXPECT_EQ(s, Step::kAnnounce);
      ++announced;
    }
  EXPECT_EQ(announced, static_cast<int>(VipPlan::kAnnounceAfter.size()));
  EXPECT_EQ(plan.tick(t0 + 4s, false), Steps{Step::kRemove});
  EXPECT_FALSE(plan.held());
  EXPECT_EQ(plan.tick(t0 + 5s, false), Steps{});
}

TEST(VipPlan, ALeaseThatLapsesAndComesBackGivesUpAndTakesAgain) {
  VipPlan plan;
  plan.tick(t0, true);
  // Lapsed before the second announcement: removed, and nothing more is
  // announced for an address this node no longer has.
  EXPECT_EQ(plan.tick(t0 + 50ms, false), Steps{Step::kRemove});
  for (auto t = t0 + 60ms; t <= t0 + 3s; t += 10ms) EXPECT_EQ(plan.tick(t, false), Steps{});
  EXPECT_EQ(plan.tick(t0 + 4s, true), (Steps{Step::kAdd, Step::kAnnounce}));
}

TEST(VipPlan, LateTicksAnnounceOnceForEverythingDue) {
  VipPlan plan;
  plan.tick(t0, true);
  EXPECT_EQ(plan.tick(t0 + 10s, true), Steps{Step::kAnnounce});
  EXPECT_EQ(plan.tick(t0 + 11s, true), Steps{});
}

TEST(VipPlan, AFailedAddIsTriedAgainLaterAndLaterWhileServing) {
  VipPlan plan;
  EXPECT_EQ(plan.tick(t0, true), (Steps{Step::kAdd, Step::kAnnounce}));
  plan.failed(Step::kAdd, t0 + 10ms);
  EXPECT_FALSE(plan.held());
  EXPECT_EQ(plan.tick(t0 + 200ms, true), Steps{});  // no announcement for an address not added
  EXPECT_EQ(plan.tick(t0 + 1010ms, true), (Steps{Step::kAdd, Step::kAnnounce}));
  plan.failed(Step::kAdd, t0 + 1100ms);
  EXPECT_EQ(plan.tick(t0 + 3000ms, true), Steps{});  // 2 s after the second failure
  EXPECT_EQ(plan.tick(t0 + 3100ms, true), (Steps{Step::kAdd, Step::kAnnounce}));
  plan.succeeded(Step::kAdd);
  EXPECT_TRUE(plan.held());
  // A success starts the waits over: lost again later, 1 s.
  EXPECT_EQ(plan.tick(t0 + 10s, false), Steps{Step::kRemove});
  EXPECT_EQ(plan.tick(t0 + 11s, true), (Steps{Step::kAdd, Step::kAnnounce}));
  plan.failed(Step::kAdd, t0 + 11s);
  EXPECT_EQ(plan.tick(t0 + 12s, true), (Steps{Step::kAdd, Step::kAnnounce}));
}

TEST(VipPlan, TheWaitBetweenTriesStopsGrowingAt30s) {
  VipPlan plan;
  core::TimePoint t = t0;
  plan.tick(t, true);
  for (int i = 0; i < 10; ++i) {
    plan.failed(Step::kAdd, t);
    const core::TimePoint next = t + std::min<core::Duration>(VipPlan::kFirstRetry * (1 << i), VipPlan::kMaxRetry);
    EXPECT_EQ(plan.tick(next - 1ms, true), Steps{}) << i;
    EXPECT_EQ(plan.tick(next, true), (Steps{Step::kAdd, Step::kAnnounce})) << i;
    t = next;
  }
}

TEST(VipPlan, AnAddThatFailedIsRemovedOnceTheNodeNoLongerServes) {
  // Killed part-way, the add may have left the address behind.
  VipPlan plan;
  plan.tick(t0, true);
  plan.failed(Step::kAdd, t0 + 5s);
  EXPECT_EQ(plan.tick(t0 + 5100ms, false), Steps{Step::kRemove});
  EXPECT_EQ(plan.tick(t0 + 10s, false), Steps{});
}

TEST(VipPlan, AFailedRemoveIsTriedAgainWhileTheNodeDoesNotServe) {
  VipPlan plan;
  plan.tick(t0, true);
  EXPECT_EQ(plan.tick(t0 + 3s, false), Steps{Step::kRemove});
  plan.failed(Step::kRemove, t0 + 3s);
  EXPECT_EQ(plan.tick(t0 + 3500ms, false), Steps{});
  EXPECT_EQ(plan.tick(t0 + 4s, false), Steps{Step::kRemove});
  plan.failed(Step::kRemove, t0 + 4s);
  // Serving again before the next try: taken, and the remove is off.
  EXPECT_EQ(plan.tick(t0 + 5s, true), (Steps{Step::kAdd, Step::kAnnounce}));
  for (auto t = t0 + 5s; t <= t0 + 60s; t += 1s)
    for (Step s : plan.tick(t, true)) EXPECT_NE(s, Step::kRemove);
}

TEST(Vip, GratuitousArpFrame) {
  const std::array<std::uint8_t, 6> mac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  const auto f = gratuitous_arp(mac, 0x0a000064);  // 10.0.0.100
  const std::array<std::uint8_t, 42> want{
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,  // Ethernet
      0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,                                      // ARP request
      0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10,   0,    0,    100,                           // sender
      0,    0,    0,    0,    0,    0,    10,   0,    0,    100};                          // target
  EXPECT_EQ(f, want);
}

TEST(Vip, AddressesAndInterfaceNames) {
  auto v = parse_vip_address("192.168.1.7/32");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->ipv4, 0xc0a80107u);
  EXPECT_FALSE(parse_vip_address("192.168.1.7"));
  EXPECT_FALSE(parse_vip_address("192.168.1.7/+1"));
  EXPECT_FALSE(parse_vip_address("192.168.1.7/24 dev lo"));
  EXPECT_TRUE(valid_interface_name("eth0"));
  EXPECT_TRUE(valid_interface_name("br-lan.10"));
  EXPECT_FALSE(valid_interface_name(""));
  EXPECT_FALSE(valid_interface_name("0123456789abcdef"));
  EXPECT_FALSE(valid_interface_name("eth0 up"));
}

}  // namespace
}  // namespace failover::store
