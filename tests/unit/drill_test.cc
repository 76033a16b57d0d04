// The drill's pure parts: the fault list and its bounds, lost writes found
// by the final reads, failed time with overlaps merged, the SLA, and the
// JSON and HTML that carry the result.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "drill/cluster_config.h"
#include "drill/drill_plan.h"
#include "drill/drill_report.h"
#include "drill/drill_result.h"

namespace failover::test {
namespace {

using drill::FaultAction;
using drill::FaultStep;
using drill::Operation;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using std::chrono::milliseconds;

const drill::ClusterConfig& example() {
  static const drill::ClusterConfig c = drill::load_cluster_config(FAILOVER_SOURCE_DIR "/examples/cluster.yaml");
  return c;
}

TEST(DrillPlan, ParsesAFaultList) {
  auto steps = drill::parse_fault_steps(" kill:lb-a, stop:primary,kill:web-2-agent ", example());
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_THAT(*steps, ElementsAre(FaultStep{FaultAction::kKill, "lb-a", {}}, FaultStep{FaultAction::kStop, "primary", {}},
                                  FaultStep{FaultAction::kKill, "web-2-agent", {}}));
}

// The example without its fault proxies.
drill::ClusterConfig example_without_proxies() {
  drill::ClusterConfig c = example();
  for (auto& n : c.store_nodes) n.proxy.clear();
  for (auto& i : c.instances) i.proxy.clear();
  return c;
}

FaultStep link(std::string target, drill::Fault::Kind kind, milliseconds delay = milliseconds(0)) {
  FaultStep s{FaultAction::kLink, std::move(target), {}};
  s.link.kind = kind;
  s.link.delay = delay;
  return s;
}

TEST(DrillPlan, ParsesLinkFaultsOnProxiedComponents) {
  auto steps = drill::parse_fault_steps("blackhole:primary,delay=500ms:web-2,half-open:store-b", example());
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  EXPECT_THAT(*steps, ElementsAre(link("primary", drill::Fault::Kind::kBlackhole),
                                  link("web-2", drill::Fault::Kind::kDelay, milliseconds(500)),
                                  link("store-b", drill::Fault::Kind::kHalfOpen)));
  EXPECT_EQ(drill::step_action((*steps)[1]), "delay 500ms");
  EXPECT_EQ(drill::step_action(FaultStep{FaultAction::kStop, "lb-a", {}}), "stop");
  // A delay or a share of connections dropped may pass unnoticed; a cut may not.
  EXPECT_TRUE(drill::may_pass_unnoticed((*steps)[1]));
  EXPECT_FALSE(drill::may_pass_unnoticed((*steps)[0]));
  EXPECT_TRUE(drill::may_pass_unnoticed(drill::parse_fault_steps("drop=0.5:web-2", example())->front()));
  EXPECT_FALSE(drill::may_pass_unnoticed(drill::parse_fault_steps("drop=1:web-2", example())->front()));
  EXPECT_FALSE(drill::may_pass_unnoticed(FaultStep{FaultAction::kKill, "web-2", {}}));
}

TEST(DrillPlan, AStoreLinkFaultCutsBothDirectionsOfThePair) {
  EXPECT_THAT(drill::link_proxies("store-b", example()), ElementsAre("store-a", "store-b"));
  EXPECT_THAT(drill::link_proxies("web-2", example()), ElementsAre("web-2"));
}

TEST(DrillPlan, ALinkFaultNeedsAProxyOnEveryLinkItCuts) {
  EXPECT_THAT(drill::parse_fault_steps("blackhole:web-1", example()).error().message,
              HasSubstr("web-1 has no proxy"));
  drill::ClusterConfig half = example();
  half.store_nodes.back().proxy.clear();
  EXPECT_THAT(drill::parse_fault_steps("blackhole:store-a", half).error().message,
              HasSubstr("store-b has no proxy"));
  EXPECT_THAT(drill::parse_fault_steps("blackhole:primary", example_without_proxies()).error().message,
              HasSubstr("store-a has no proxy"));
  EXPECT_THAT(drill::parse_fault_steps("none:web-2", example()).error().message, HasSubstr("link fault"));
  EXPECT_THAT(drill::parse_fault_steps("delay=0ms:web-2", example()).error().message, HasSubstr("link fault"));
}

TEST(DrillPlan, RefusesWhatItCannotDo) {
  EXPECT_THAT(drill::parse_fault_steps("kill:lb-z", example()).error().message, HasSubstr("lb-z is no component"));
  EXPECT_THAT(drill::parse_fault_steps("pause:lb-a", example()).error().message, HasSubstr("kill, stop"));
  EXPECT_THAT(drill::parse_fault_steps("lb-a", example()).error().message, HasSubstr("ACTION:TARGET"));
  EXPECT_THAT(drill::parse_fault_steps(" , ", example()).error().message, HasSubstr("no fault"));
}

std::vector<std::string> step_names(const std::vector<FaultStep>& steps) {
  std::vector<std::string> names;
  for (const FaultStep& s : steps) names.push_back(drill::step_action(s) + ":" + s.target);
  return names;
}

TEST(DrillPlan, TheDefaultTouchesEveryLayerAndTheLinksItCan) {
  EXPECT_THAT(step_names(drill::default_fault_steps(example())),
              ElementsAre("kill:lb-a", "kill:web-1", "kill:registry-1", "kill:primary", "kill:dns-1", "kill:witness",
                          "stop:lb-b", "stop:primary", "blackhole:primary", "delay 500ms:web-2"));
  EXPECT_THAT(step_names(drill::default_fault_steps(example_without_proxies())),
              ElementsAre("kill:lb-a", "kill:web-1", "kill:registry-1", "kill:primary", "kill:dns-1", "kill:witness",
                          "stop:lb-b", "stop:primary"));
}

TEST(DrillPlan, BoundsComeFromTheConfig) {
  // check: interval 200ms, rise 2, fall 2, timeout 200ms; heartbeat.timeout 250ms.
  const auto lb = drill::bounds_for(drill::ComponentKind::kLb, example(), milliseconds(10));
  EXPECT_EQ(lb.detect, milliseconds(2 * 200 + 200 + 10));
  EXPECT_EQ(lb.failback, milliseconds(2 * 200 + 200 + 10));
  const auto store = drill::bounds_for(drill::ComponentKind::kStore, example(), milliseconds(10));
  EXPECT_EQ(store.detect, milliseconds(250 + 500 + 10));
  EXPECT_FALSE(drill::bounds_for(drill::ComponentKind::kWitness, example(), milliseconds(10)).detect);
}

core::TimePoint at(int ms) { return core::TimePoint(milliseconds(ms)); }

Operation write(const char* key, const char* value, int start, int end,
                Operation::Outcome outcome = Operation::Outcome::kOk) {
  return {Operation::Kind::kWrite, key, std::string(value), at(start), at(end), outcome, "c"};
}
Operation final_read(const char* key, std::optional<std::string> value, int start) {
  return {Operation::Kind::kRead, key, std::move(value), at(start), at(start + 1), Operation::Outcome::kOk, "final"};
}

TEST(DrillResult, LostWritesAreThoseTheFinalReadsProveGone) {
  // k: w1 then w2, both acknowledged; the final read finds w2: nothing lost.
  EXPECT_EQ(drill::count_lost_writes({write("k", "w1", 0, 10), write("k", "w2", 20, 30), final_read("k", "w2", 100)}), 0u);
  // It finds w1, which ended before w2 began: w2 is lost.
  EXPECT_EQ(drill::count_lost_writes({write("k", "w1", 0, 10), write("k", "w2", 20, 30), final_read("k", "w1", 100)}), 1u);
  // Overlapping writes may land in either order: nothing is proven lost.
  EXPECT_EQ(drill::count_lost_writes({write("k", "w1", 0, 30), write("k", "w2", 20, 40), final_read("k", "w1", 100)}), 0u);
  // The key is gone: every acknowledged write is lost; an unknown one is not counted.
  EXPECT_EQ(drill::count_lost_writes({write("k", "w1", 0, 10), write("k", "w2", 20, 30, Operation::Outcome::kUnknown),
                                      final_read("k", std::nullopt, 100)}),
            1u);
}

TEST(DrillResult, FailedTimeMergesOverlapsInsideTheWindow) {
  const std::vector<drill::FailedRequest> f{{at(100), at(300), false, "a", ""},
                                            {at(200), at(400), true, "b", ""},
                                            {at(1000), at(1100), false, "c", ""},
                                            {at(1900), at(2500), false, "d", ""}};
  EXPECT_EQ(drill::failed_time(f, at(0), at(2000)), milliseconds(300 + 100 + 100));
  EXPECT_EQ(drill::failed_time(f, at(250), at(1050)), milliseconds(150 + 50));
  EXPECT_EQ(drill::failed_time({}, at(0), at(2000)), milliseconds(0));
}

drill::DrillResult result_with_outage(milliseconds duration, std::vector<milliseconds> outages) {
  drill::DrillResult r;
  r.duration = duration;
  for (milliseconds o : outages) {
    drill::FaultResult f;
    f.component = "lb-<a>";
    f.outage = o;
    f.detected = milliseconds(400);
    f.bounds.detect = milliseconds(850);
    r.faults.push_back(f);
  }
  return r;
}

TEST(DrillResult, SlaIsMtbfOverMtbfPlusMttr) {
  const auto r = result_with_outage(milliseconds(100'000), {milliseconds(100), milliseconds(300), milliseconds(0),
                                                            milliseconds(0)});
  // MTBF 25 s, MTTR 100 ms.
  EXPECT_DOUBLE_EQ(r.availability(), 25'000.0 / 25'100.0);
  EXPECT_EQ(r.outage_per_day(), milliseconds(400 * 864));
  EXPECT_DOUBLE_EQ(result_with_outage(milliseconds(100'000), {milliseconds(0)}).availability(), 1.0);
  EXPECT_TRUE(r.passed());
}

TEST(DrillResult, JsonAndHtmlCarryTheVerdict) {
  auto r = result_with_outage(milliseconds(10'000), {milliseconds(0)});
  r.writes_failed = 1;
  r.timeline = {{10, 0, 5, 1}};
  r.events = {{milliseconds(500), "lb-a", "killed by signal 9"}};
  const boost::json::value j = boost::json::parse(drill::drill_json(r));
  EXPECT_FALSE(j.at("passed").as_bool());
  EXPECT_EQ(j.at("faults").as_array().size(), 1u);
  EXPECT_EQ(j.at("faults").at(0).at("detected_ms").as_int64(), 400);
  EXPECT_TRUE(j.at("faults").at(0).at("within_bounds").as_bool());
  EXPECT_EQ(j.at("timeline").at(0).at("writes_failed").to_number<int>(), 1);
  const std::string html = drill::drill_report_html(r);
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("FAIL"));
  EXPECT_THAT(html, HasSubstr("lb-&lt;a&gt;"));  // escaped
  EXPECT_THAT(html, ::testing::Not(HasSubstr("lb-<a>")));
  EXPECT_THAT(drill::drill_table(r), HasSubstr("RESULT: FAIL"));
}

}  // namespace
}  // namespace failover::test
