#include "core/units.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace failover::core {
namespace {

using std::chrono::milliseconds;

TEST(Units, DurationBareIntegerIsMilliseconds) {
  EXPECT_EQ(parse_duration("1500"), milliseconds(1500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(Units, DurationUnits) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("3s"), milliseconds(3000));
  EXPECT_EQ(parse_duration("1m"), milliseconds(60'000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7'200'000));
}

TEST(Units, DurationRejectsGarbage) {
  for (const char* bad : {"", "abc", "ms", "-5", "-5s", "5x", "5 s", " 5", "5s ", "1.5s", "+5",
                          "5S", "5sec", "0x10", "1m30s"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Units, DurationRejectsOverflow) {
  EXPECT_FALSE(parse_duration("99999999999999999999").has_value());
  EXPECT_FALSE(parse_duration("18446744073709551615h").has_value());
  EXPECT_FALSE(parse_duration("5124095576030431h").has_value());  // wraps uint64 when scaled
}

TEST(Units, DurationIsBoundedAtTenYears) {
  EXPECT_EQ(parse_duration("87600h"), milliseconds(87'600LL * 3'600'000));
  EXPECT_FALSE(parse_duration("87601h").has_value());
}

TEST(Units, SizeUnitsAreBinary) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("512b"), 512u);
  EXPECT_EQ(parse_size("16k"), 16u * 1024);
  EXPECT_EQ(parse_size("16K"), 16u * 1024);
  EXPECT_EQ(parse_size("1m"), 1024u * 1024);
  EXPECT_EQ(parse_size("1MiB"), 1024u * 1024);
  EXPECT_EQ(parse_size("2g"), 2ULL << 30);
  EXPECT_EQ(parse_size("0"), 0u);
}

TEST(Units, SizeRejectsGarbage) {
  for (const char* bad : {"", "k", "abc", "-1", "16kb", "1.5m", "16 k", "1t", "0x10"}) {
    EXPECT_FALSE(parse_size(bad).has_value()) << bad;
  }
}

TEST(Units, SizeRejectsOverflow) {
  EXPECT_EQ(parse_size("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(parse_size("18446744073709551616").has_value());
  EXPECT_FALSE(parse_size("17179869184g").has_value());  // 2^34 GiB = 2^64
  EXPECT_EQ(parse_size("17179869183g"), (17179869183ULL) << 30);
}

TEST(Units, FormatDurationPicksShortestExactUnit) {
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(3000)), "3s");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2m");
  EXPECT_EQ(format_duration(milliseconds(0)), "0ms");
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "60m");
}

TEST(Units, FormatDurationRoundTrips) {
  for (long long ms : {0LL, 1LL, 999LL, 1000LL, 61'000LL, 60'000LL, 86'400'000LL}) {
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

}  // namespace
}  // namespace failover::core
