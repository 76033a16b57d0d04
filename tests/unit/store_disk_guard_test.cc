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

TEST(DiskGuard, ZeroMinFreeNeverFills) {
  DiskGuard g(0);
  EXPECT_FALSE(g.observe(0));
  EXPECT_FALSE(g.full());
}

}  // namespace
}  // namespace failover::store
