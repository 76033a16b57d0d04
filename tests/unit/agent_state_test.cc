// The agent's decisions for one instance, driven by hand.
#include <gtest/gtest.h>

#include "agent/instance_state.h"
#include "core/clock.h"
#include "support/probes.h"

namespace failover::agent {
namespace {

using std::chrono::milliseconds;

// A service checked with `rise` and `fall`, or not checked at all; as the
// agent's config reads it, a checked one starts down.
health::CheckConfig checked(bool enabled, int rise, int fall) {
  health::CheckConfig c;
  c.enabled = enabled;
  c.rise = rise;
  c.fall = fall;
  c.initial_up = false;
  return c;
}

using test::probe;

TEST(AgentState, RegistersOnceTheCheckPassesThenHeartbeatsEveryThirdOfTtl) {
  core::ManualClock clock;
  InstanceState s(milliseconds(900), checked(true, 2, 2), clock.now());
  EXPECT_EQ(s.due(clock.now()), Action::kNone);  // not checked yet: nothing to say
  EXPECT_EQ(s.on_probe(probe(true), clock.now()), Action::kNone);  // rise 2: one is not enough
  EXPECT_EQ(s.on_probe(probe(true), clock.now()), Action::kRegister);
  s.on_result(Action::kRegister, Outcome::kOk, clock.now());
  EXPECT_TRUE(s.registered());
  EXPECT_EQ(s.due(clock.now()), Action::kNone);
  clock.advance(milliseconds(299));
  EXPECT_EQ(s.due(clock.now()), Action::kNone);
  clock.advance(milliseconds(1));
  EXPECT_EQ(s.due(clock.now()), Action::kHeartbeat);
  s.on_result(Action::kHeartbeat, Outcome::kOk, clock.now());
  EXPECT_EQ(s.next_due(), clock.now() + milliseconds(300));
}

TEST(AgentState, ReportsAFailedCheckAtOnceAndStaysSilent) {
  core::ManualClock clock;
  InstanceState s(milliseconds(900), checked(true, 1, 2), clock.now());
  s.on_result(s.on_probe(probe(true), clock.now()), Outcome::kOk, clock.now());
  EXPECT_EQ(s.on_probe(probe(false), clock.now()), Action::kNone);  // fall 2
  EXPECT_EQ(s.on_probe(probe(false), clock.now()), Action::kReportFailed);
  s.on_result(Action::kReportFailed, Outcome::kOk, clock.now());
  clock.advance(milliseconds(5000));
  EXPECT_EQ(s.due(clock.now()), Action::kNone);  // no heartbeat for a failing service
  EXPECT_EQ(s.on_probe(probe(true), clock.now()), Action::kHeartbeat);  // back: heartbeat revives it
}

TEST(AgentState, RegistersAgainWhenTheRegistryForgot) {
  core::ManualClock clock;
  InstanceState s(milliseconds(900), checked(false, 1, 1), clock.now());  // no check: always healthy
  EXPECT_EQ(s.due(clock.now()), Action::kRegister);
  s.on_result(Action::kRegister, Outcome::kOk, clock.now());
  clock.advance(milliseconds(300));
  s.on_result(Action::kHeartbeat, Outcome::kNotFound, clock.now());
  EXPECT_FALSE(s.registered());
  EXPECT_EQ(s.due(clock.now()), Action::kRegister);
}

TEST(AgentState, NothingIsDueWhileUnhealthySoTheLoopSleepsUntilAProbe) {
  core::ManualClock clock;
  InstanceState s(milliseconds(900), checked(true, 1, 1), clock.now());
  EXPECT_EQ(s.next_due(), core::TimePoint::max());
  s.on_probe(probe(true), clock.now());
  EXPECT_EQ(s.next_due(), core::TimePoint{}) << "register at once";
}

TEST(AgentState, InitialUpRegistersBeforeAnyCheck) {
  core::ManualClock clock;
  health::CheckConfig c = checked(true, 2, 2);
  c.initial_up = true;
  InstanceState s(milliseconds(900), c, clock.now());
  EXPECT_EQ(s.due(clock.now()), Action::kRegister);
}

TEST(AgentState, RetriesAfterAHeartbeatIntervalWhenNoRegistryAnswers) {
  core::ManualClock clock;
  InstanceState s(milliseconds(900), checked(false, 1, 1), clock.now());
  s.on_result(Action::kRegister, Outcome::kFailed, clock.now());
  EXPECT_EQ(s.due(clock.now()), Action::kNone);
  clock.advance(milliseconds(300));
  EXPECT_EQ(s.due(clock.now()), Action::kRegister);
}

}  // namespace
}  // namespace failover::agent
