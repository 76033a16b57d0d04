// The preferred node's hold-down before it asks for its role back, on the
// manual clock: only after a whole unbroken stretch in sync, again at most
// once per hold-down, and from the start after any break (no ping-pong).
#include <gtest/gtest.h>

#include "store/config.h"
#include "store/preempt.h"

namespace failover::store {
namespace {

using namespace std::chrono_literals;

TEST(PreemptHoldDown, AsksOnlyAfterAWholeStretchInSync) {
  PreemptHoldDown p(1000ms);
  const core::TimePoint t0{std::chrono::hours(1)};
  EXPECT_FALSE(p.due(t0, true));
  EXPECT_FALSE(p.due(t0 + 999ms, true));
  EXPECT_TRUE(p.due(t0 + 1000ms, true));
  // Still a backup (the request was refused or lost): again a hold-down later.
  EXPECT_FALSE(p.due(t0 + 1500ms, true));
  EXPECT_TRUE(p.due(t0 + 2000ms, true));
}

TEST(PreemptHoldDown, AFlapStartsTheHoldDownAgain) {
  PreemptHoldDown p(1000ms);
  const core::TimePoint t0{std::chrono::hours(1)};
  EXPECT_FALSE(p.due(t0, true));
  EXPECT_FALSE(p.due(t0 + 900ms, true));
  EXPECT_FALSE(p.due(t0 + 950ms, false));  // out of in_sync for a moment
  EXPECT_FALSE(p.due(t0 + 1000ms, true));  // a new stretch from here
  EXPECT_FALSE(p.due(t0 + 1999ms, true));
  EXPECT_TRUE(p.due(t0 + 2000ms, true));
  // Primary now (not a backup): nothing, and a later stretch starts afresh.
  EXPECT_FALSE(p.due(t0 + 5000ms, false));
  EXPECT_FALSE(p.due(t0 + 5500ms, true));
  EXPECT_TRUE(p.due(t0 + 6500ms, true));
}

TEST(PreemptHoldDown, ConfigTakesPreemptAndItsHoldDown) {
  const char* yaml = R"(store:
  node: a
  data_dir: /tmp/x
  peers: {b: {listen: 127.0.0.1:7002, peer_listen: 127.0.0.1:7102}}
  arbiter: {type: witness, address: 127.0.0.1:7200}
  preempt: true
  preempt_hold_down: 5s
)";
  const StoreConfig c = parse_store_config(yaml, "s.yaml");
  EXPECT_TRUE(c.preempt);
  EXPECT_EQ(c.preempt_hold_down, 5000ms);
  const StoreConfig d = parse_store_config(std::string(yaml).substr(0, std::string(yaml).find("  preempt")), "s.yaml");
  EXPECT_FALSE(d.preempt);
  EXPECT_EQ(d.preempt_hold_down, 30000ms);
}

}  // namespace
}  // namespace failover::store
