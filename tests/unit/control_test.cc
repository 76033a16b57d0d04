// The load balancer's health state machine: probe results, passive
// failures, admin actions and reloads in, snapshots and effects out. No
// probe, no socket: the clock moves by hand.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/metrics_writer.h"
#include "lb/control.h"
#include "support/probes.h"

namespace failover::lb {
namespace {

using namespace std::chrono_literals;

using test::pass;
using test::refused;

class LbControl : public ::testing::Test {
 protected:
  Effects load(const std::string& upstream_yaml) {
    return take(control_.apply(parse_lb_config("lb:\n  upstreams:\n" + upstream_yaml, "test.yaml"),
                               clock_.now()));
  }
  Effects check(std::size_t i, const health::ProbeResult& r) {
    return take(control_.on_check(server(i), r, clock_.now()));
  }
  Effects fail(std::size_t i, const std::string& cause) {
    return take(control_.on_failure(server(i), cause, clock_.now()));
  }
  bool admin(std::string_view upstream, std::string_view address, AdminState state) {
    auto e = control_.set_admin(upstream, address, state, clock_.now());
    if (e) take(std::move(*e));
    return e.has_value();
  }
  Effects discovered(std::vector<ServerConfig> servers) {
    return take(control_.set_discovered("web", std::move(servers), clock_.now()));
  }
  // As the control loop does: a publish hands the snapshot on.
  Effects take(Effects e) {
    if (e.publish) snap_ = control_.snapshot();
    return e;
  }
  ServerHealth& server(std::size_t i) { return *(*control_.servers("web"))[i]; }
  std::vector<std::uint32_t> serving() const { return snap_->upstreams.at(0).serving; }

  core::ManualClock clock_;
  std::shared_ptr<const Snapshot> snap_;
  Control control_{clock_.now()};
};

constexpr const char* kTwo = R"(    - name: web
      servers: [127.0.0.1:1, 127.0.0.1:2]
      check: {interval: 100, rise: 2, fall: 3, timeout: 50}
      passive: {max_fails: 2, fail_timeout: 1s}
)";

TEST_F(LbControl, ServersStartUpAndServing) {
  load(kTwo);
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{0, 1}));
}

TEST_F(LbControl, FallFailedChecksTakeServerOutOfServing) {
  load(kTwo);
  check(0, refused());
  check(0, refused());
  EXPECT_EQ(serving().size(), 2u) << "two failures are not yet fall=3";
  check(0, refused());
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(server(0).state_name(clock_.now()), "down");
}

TEST_F(LbControl, RisePassingChecksBringItBackAndEndEjection) {
  load(kTwo);
  for (int i = 0; i < 3; ++i) check(0, refused());
  fail(0, "refused");
  fail(0, "refused");
  check(0, pass());
  EXPECT_EQ(serving().size(), 1u);
  check(0, pass());
  EXPECT_EQ(serving().size(), 2u) << "rise=2 passing checks bring it back, ejection or not";
}

TEST_F(LbControl, PassiveFailuresEjectForFailTimeout) {
  load(kTwo);
  auto s0 = (*control_.servers("web"))[0];
  fail(0, "reset");
  EXPECT_EQ(serving().size(), 2u);
  const Effects ejected = fail(0, "reset");
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{1}));
  clock_.advance(999ms);
  EXPECT_FALSE(s0->available(clock_.now()));
  clock_.advance(1ms);
  EXPECT_TRUE(s0->available(clock_.now()));
  EXPECT_EQ(s0->ejector().ejections(), 1);
  EXPECT_EQ(ejected.wake, clock_.now()) << "the loop is told when the ejection ends";
}

TEST_F(LbControl, BackupServesOnlyWhenEveryPrimaryIsDown) {
  load(R"(    - name: web
      servers: [127.0.0.1:1, {address: 127.0.0.1:2, backup: true}]
      check: {interval: 100, rise: 1, fall: 1, timeout: 50}
)");
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{0}));
  check(0, refused());
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{1}));
  check(0, pass());
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{0}));
}

TEST_F(LbControl, PanicSendsToEveryServerWhenAllAreDown) {
  load(R"(    - name: web
      servers: [127.0.0.1:1, 127.0.0.1:2]
      check: {interval: 100, rise: 1, fall: 1, timeout: 50}
)");
  check(0, refused());
  check(1, refused());
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_TRUE(snap_->upstreams[0].panic);
  EXPECT_NE(control_.status_json(clock_.now()).find("\"panic\":true"), std::string::npos);
}

TEST_F(LbControl, WithoutPanicNothingServesWhenAllAreDown) {
  load(R"(    - name: web
      servers: [127.0.0.1:1]
      check: {interval: 100, rise: 1, fall: 1, timeout: 50}
      panic: false
)");
  check(0, refused());
  EXPECT_TRUE(serving().empty());
  EXPECT_FALSE(snap_->upstreams[0].panic);
}

TEST_F(LbControl, AdminDownAndDrainTakeNoNewRequestsAndUpReturns) {
  load(kTwo);
  EXPECT_TRUE(admin("web", "127.0.0.1:1", AdminState::kDown));
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{1}));
  EXPECT_TRUE(admin("web", "127.0.0.1:2", AdminState::kDrain));
  EXPECT_EQ(server(1).state_name(clock_.now()), "drain");
  EXPECT_TRUE(serving().empty()) << "servers taken out by hand stay out, even in panic";
  EXPECT_TRUE(admin("web", "127.0.0.1:1", AdminState::kNone));
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{0}));
  EXPECT_FALSE(admin("web", "127.0.0.1:9", AdminState::kDown));
  EXPECT_FALSE(admin("nope", "127.0.0.1:1", AdminState::kDown));
}

TEST_F(LbControl, ReloadKeepsHealthOfServersThatStay) {
  load(kTwo);
  for (int i = 0; i < 3; ++i) check(0, refused());
  check(1, pass());
  const auto kept = (*control_.servers("web"))[0];
  load(R"(    - name: web
      servers: [127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3]
      check: {interval: 100, rise: 2, fall: 3, timeout: 50}
      passive: {max_fails: 2, fail_timeout: 1s}
)");
  EXPECT_EQ((*control_.servers("web"))[0], kept) << "same object: counters, ejection, history";
  EXPECT_EQ(server(0).state_name(clock_.now()), "down") << "a dead server is not marked up by a reload";
  EXPECT_EQ(server(0).health().failures(), 3);
  EXPECT_EQ(server(1).health().successes(), 1);
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{1, 2}));
}

TEST_F(LbControl, ReloadDropsRemovedServers) {
  load(kTwo);
  const auto gone = (*control_.servers("web"))[1];
  load(R"(    - name: web
      servers: [127.0.0.1:1]
)");
  EXPECT_TRUE(gone->removed());
  EXPECT_EQ(control_.servers("web")->size(), 1u);
}

TEST_F(LbControl, SlowStartRampsTheWeightOfAReturningServer) {
  load(R"(    - name: web
      servers: [{address: 127.0.0.1:1, weight: 10}]
      check: {interval: 100, rise: 1, fall: 1, timeout: 50}
      slow_start: 10s
)");
  EXPECT_EQ(server(0).effective_weight(clock_.now()), 1000) << "full weight at start";
  check(0, refused());
  check(0, pass());
  EXPECT_EQ(server(0).effective_weight(clock_.now()), 100) << "10% floor right after coming back";
  clock_.advance(5s);
  EXPECT_EQ(server(0).effective_weight(clock_.now()), 500);
  clock_.advance(5s);
  EXPECT_EQ(server(0).effective_weight(clock_.now()), 1000);
}

TEST_F(LbControl, AsksForProbeLoopsOfCheckedServersAndStopsThoseOfRemovedOnes) {
  const Effects first = load(kTwo);
  EXPECT_EQ(first.start_checks.size(), 2u);
  EXPECT_TRUE(first.stop_checks.empty());
  const Effects same = load(kTwo);
  EXPECT_TRUE(same.start_checks.empty()) << "an unchanged check keeps its loop";
  const Effects changed = load(R"(    - name: web
      servers: [127.0.0.1:1]
      check: {interval: 200, rise: 2, fall: 3, timeout: 50, port: 9}
)");
  ASSERT_EQ(changed.start_checks.size(), 1u) << "a changed check restarts the loop";
  EXPECT_EQ(changed.start_checks[0]->check().port, 9);
  EXPECT_EQ(changed.stop_checks.size(), 2u) << "the old loop of :1, and :2 removed";
  const Effects unchecked = load(R"(    - name: web
      servers: [127.0.0.1:1]
)");
  EXPECT_TRUE(unchecked.start_checks.empty());
  EXPECT_EQ(unchecked.stop_checks.size(), 1u);
}

TEST_F(LbControl, InitialDownServersWaitForRisePassingChecks) {
  load(R"(    - name: web
      servers: [127.0.0.1:1, 127.0.0.1:2]
      check: {interval: 100, rise: 2, fall: 3, timeout: 50, initial: down}
      panic: false
)");
  EXPECT_TRUE(serving().empty());
  EXPECT_EQ(server(0).state_name(clock_.now()), "down");
  EXPECT_NE(control_.status_json(clock_.now()).find("starts down (initial: down) until 2 checks pass"),
            std::string::npos);
  check(0, pass());
  EXPECT_TRUE(serving().empty());
  check(0, pass());
  EXPECT_EQ(serving(), (std::vector<std::uint32_t>{0}));
}

TEST_F(LbControl, ServerMaxConnsOverridesTheUpstreamLimit) {
  load(R"(    - name: web
      servers: [{address: 127.0.0.1:1, max_conns: 7}, 127.0.0.1:2]
)");
  EXPECT_EQ(snap_->upstreams[0].servers[0].max_connections, 7);
  EXPECT_EQ(snap_->upstreams[0].servers[1].max_connections, 1000) << "limits.upstream_connections";
}

TEST_F(LbControl, StatusSaysWhyAServerIsDown) {
  load(kTwo);
  for (int i = 0; i < 3; ++i) check(0, refused());
  const std::string status = control_.status_json(clock_.now());
  EXPECT_NE(status.find("active check failed 3 times in a row (last: refused)"), std::string::npos) << status;
  EXPECT_NE(status.find("\"cause\":\"refused\""), std::string::npos);
  core::MetricsWriter writer;
  control_.metrics(writer, clock_.now());
  const std::string metrics = writer.text();
  EXPECT_NE(metrics.find("failover_lb_server_up{upstream=\"web\",server=\"127.0.0.1:1\"} 0"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace failover::lb

namespace failover::lb {
namespace {

constexpr const char* kDiscovered = R"(    - name: web
      servers: [127.0.0.1:1]
      discovery: {registry: [http://127.0.0.1:8500], service: web}
      check: {interval: 100, rise: 2, fall: 3, timeout: 50}
)";

ServerConfig at(const std::string& address) {
  ServerConfig s;
  s.address = address;
  return s;
}

TEST_F(LbControl, DiscoveredServersJoinTheFixedOnesAndKeepTheirHealth) {
  load(kDiscovered);
  EXPECT_EQ(control_.servers("web")->size(), 1u);
  discovered({at("127.0.0.1:2"), at("127.0.0.1:3"), at("127.0.0.1:1")});
  ASSERT_EQ(control_.servers("web")->size(), 3u) << "a fixed server listed again is not doubled";
  EXPECT_EQ(serving().size(), 3u);
  // 127.0.0.1:2 fails its checks; a new registry answer must not revive it.
  for (int i = 0; i < 3; ++i) check(1, refused());
  EXPECT_EQ(serving().size(), 2u);
  discovered({at("127.0.0.1:2"), at("127.0.0.1:4")});
  ASSERT_EQ(control_.servers("web")->size(), 3u);
  EXPECT_EQ(server(1).config().address, "127.0.0.1:2");
  EXPECT_EQ(server(1).state_name(clock_.now()), "down");
  EXPECT_EQ(server(2).config().address, "127.0.0.1:4");
  // An instance the registry dropped is gone; the fixed one stays.
  discovered({});
  ASSERT_EQ(control_.servers("web")->size(), 1u);
  EXPECT_EQ(server(0).config().address, "127.0.0.1:1");
}

TEST_F(LbControl, DiscoveredServersSurviveAReload) {
  load(kDiscovered);
  discovered({at("127.0.0.1:2")});
  load(kDiscovered);
  EXPECT_EQ(control_.servers("web")->size(), 2u);
}

}  // namespace
}  // namespace failover::lb
