#include "drill/fault.h"

#include <gtest/gtest.h>

namespace failover::drill {
namespace {

using namespace std::chrono_literals;
using Kind = Fault::Kind;

TEST(DrillFault, ParsesEveryFaultAndGivesTheSameTextBack) {
  for (const char* text : {"none", "delay 100ms", "drop 0.3", "drop 1", "drop 0.123456789", "blackhole", "half-open"}) {
    auto f = parse_fault(text);
    ASSERT_TRUE(f) << text << ": " << f.error().message;
    EXPECT_EQ(to_string(*f), text);
  }
  EXPECT_EQ(parse_fault(" delay 2s ")->delay, 2000ms);
  EXPECT_EQ(parse_fault("drop 0.25")->drop, 0.25);
}

TEST(DrillFault, RefusesWhatItCannotDoWithAClearError) {
  for (const char* text : {"", "delay", "delay 0ms", "delay -5ms", "delay 11m", "delay fast", "drop", "drop 0",
                           "drop 1.5", "drop -0.1", "drop nan", "drop 0.5x", "blackhole 3", "half-open now", "cut"}) {
    auto f = parse_fault(text);
    ASSERT_FALSE(f) << "'" << text << "' was accepted";
    EXPECT_TRUE(f.is(core::ErrorCode::kInvalid));
    EXPECT_FALSE(f.error().message.empty());
  }
}

TEST(DrillFault, NewConnections) {
  EXPECT_EQ(on_connect(Fault{Kind::kNone}, 0.0), Verdict::kPass);
  EXPECT_EQ(on_connect(Fault{Kind::kDelay, 100ms}, 0.0), Verdict::kPass);
  EXPECT_EQ(on_connect(Fault{Kind::kBlackhole}, 0.5), Verdict::kHold);
  EXPECT_EQ(on_connect(Fault{Kind::kHalfOpen}, 0.99), Verdict::kReset);
  const Fault drop{Kind::kDrop, {}, 0.3};
  EXPECT_EQ(on_connect(drop, 0.29), Verdict::kReset);
  EXPECT_EQ(on_connect(drop, 0.3), Verdict::kPass);
  EXPECT_EQ(on_connect(Fault{Kind::kDrop, {}, 1.0}, 0.999999), Verdict::kReset);
}

TEST(DrillFault, Chunks) {
  for (auto dir : {Direction::kToUpstream, Direction::kToClient}) {
    EXPECT_EQ(on_chunk(Fault{Kind::kNone}, dir), Verdict::kPass);
    EXPECT_EQ(on_chunk(Fault{Kind::kDelay, 5ms}, dir), Verdict::kPass);
    EXPECT_EQ(on_chunk(Fault{Kind::kBlackhole}, dir), Verdict::kHold);
  }
  // Half-open: the client's write meets a host that forgot the connection.
  EXPECT_EQ(on_chunk(Fault{Kind::kHalfOpen}, Direction::kToUpstream), Verdict::kReset);
  EXPECT_EQ(on_chunk(Fault{Kind::kHalfOpen}, Direction::kToClient), Verdict::kHold);
}

TEST(DrillFault, OnlyACutLinkEndsOpenConnectionsAtOnce) {
  EXPECT_TRUE(resets_open_connections(Fault{Kind::kDrop, {}, 1.0}));
  EXPECT_FALSE(resets_open_connections(Fault{Kind::kDrop, {}, 0.9}));
  EXPECT_FALSE(resets_open_connections(Fault{Kind::kHalfOpen}));
  EXPECT_TRUE(drops_upstream_silently(Fault{Kind::kHalfOpen}));
  EXPECT_FALSE(drops_upstream_silently(Fault{Kind::kBlackhole}));
}

}  // namespace
}  // namespace failover::drill
