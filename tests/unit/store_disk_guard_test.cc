#include "store/disk_guard.h"

#include <gtest/gtest.h>

namespace failover::store {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;

TEST(DiskGuard, FullBelowMinFreeAndBackOnlyAnEighthAbove) {
  DiskGuard g(16 * kMiB);
  EXPECT_FALSE(g.full());
  EXPECT_FALSE(g.observe(16 * kMiB)) << "exactly min_free is still room";
  EXPECT_TRUE(g.observe(16 * kMiB - 1));
  EXPECT_TRUE(g.full());
  EXPECT_NE(g.reason().find("disk full: 16.0 MiB free"), std::string::npos) << g.reason();
  EXPECT_NE(g.reason().find("min_free_disk 16.0 MiB"), std::string::npos) << g.reason();
  // One write's worth freed does not flap it back.
  EXPECT_FALSE(g.observe(17 * kMiB));
  EXPECT_TRUE(g.full());
  EXPECT_FALSE(g.observe(18 * kMiB - 1));
  EXPECT_TRUE(g.observe(18 * kMiB));
  EXPECT_FALSE(g.full());
  EXPECT_EQ(g.free_bytes(), 18 * kMiB);
}

TEST(DiskGuard, WritesTakenBetweenMeasurementsCountAgainstTheFreeSpace) {
  DiskGuard g(16 * kMiB);
  EXPECT_TRUE(g.admit(64 * kMiB)) << "nothing measured yet";
  g.observe(100 * kMiB);
  EXPECT_TRUE(g.admit(64 * kMiB));
  EXPECT_TRUE(g.admit(20 * kMiB));  // 16 MiB left: exactly min_free
  EXPECT_FALSE(g.admit(1));
  EXPECT_FALSE(g.full()) << "refusing a write does not fill the guard: the next measurement decides";
  EXPECT_NE(g.reason().find("less 84.0 MiB of writes taken"), std::string::npos) << g.reason();
  g.observe(90 * kMiB);  // what was written shows in the next measurement
  EXPECT_TRUE(g.admit(74 * kMiB));
  EXPECT_FALSE(g.admit(1));
  g.observe(10 * kMiB);
  EXPECT_TRUE(g.full());
  EXPECT_FALSE(g.admit(0));
}

TEST(DiskGuard, ZeroMinFreeNeverFills) {
  DiskGuard g(0);
  EXPECT_FALSE(g.observe(0));
  EXPECT_FALSE(g.full());
  EXPECT_TRUE(g.admit(64 * kMiB));
}

}  // namespace
}  // namespace failover::store
