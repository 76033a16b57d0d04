#include "core/clock.h"
#include "registry/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace failover::registry {
namespace {

using namespace std::chrono_literals;

constexpr core::Duration kTick = 10ms;

InstanceSpec spec(std::chrono::milliseconds ttl = 1000ms, int port = 8080) {
  return {.address = "10.0.0.1", .port = port, .ttl = ttl, .meta = "{}"};
}

Change removal(const std::string& service, const std::string& id) {
  Change c;
  c.kind = Change::Kind::kRemove;
  c.service = service;
  c.id = id;
  return c;
}

class RegistryTest : public ::testing::Test {
 protected:
  explicit RegistryTest(RegistryOptions options = {}) : options_(options), reg_(clock_, options_) {}

  // Moves the clock in steps of one tick, advancing the registry each time,
  // as the server's loop does.
  void run_for(core::Duration d) {
    for (core::Duration t{0}; t < d; t += kTick) {
      clock_.advance(std::min(kTick, d - t));
      reg_.advance();
    }
  }
  const Instance* get(const std::string& service, const std::string& id) {
    auto view = reg_.query(service, /*healthy_only=*/false);
    if (!view) return nullptr;
    for (const Instance* i : view->instances) {
      if (i->id == id) return i;
    }
    return nullptr;
  }
  std::vector<std::string> ids(const std::string& service, bool healthy_only = true) {
    std::vector<std::string> out;
    if (auto view = reg_.query(service, healthy_only)) {
      for (const Instance* i : view->instances) out.push_back(i->id);
    }
    return out;
  }

  core::ManualClock clock_;
  RegistryOptions options_;
  Registry reg_;
};

TEST_F(RegistryTest, LeaseExpiresWithinTtlPlusOneTickNeverBefore) {
  ASSERT_EQ(reg_.put("web", "a", spec(1000ms)), Status::kCreated);
  for (int ms = 1; ms < 1000; ++ms) {  // advanced every millisecond: never early
    clock_.advance(1ms);
    reg_.advance();
    ASSERT_TRUE(get("web", "a")->healthy) << ms;
  }
  run_for(kTick);
  EXPECT_FALSE(get("web", "a")->healthy);
  EXPECT_EQ(reg_.counters().expiries, 1u);
  EXPECT_TRUE(ids("web").empty());
  EXPECT_EQ(ids("web", /*healthy_only=*/false), std::vector<std::string>{"a"});
}

TEST_F(RegistryTest, LeaseExpiryOffTheTickGridIsAtMostOneTickLate) {
  clock_.advance(3ms);  // the lease ends between two ticks
  reg_.put("web", "a", spec(1000ms));
  run_for(1000ms);  // 3 ms short of the tick after the lease end
  EXPECT_TRUE(get("web", "a")->healthy);
  run_for(kTick);
  EXPECT_FALSE(get("web", "a")->healthy);
}

TEST_F(RegistryTest, RemovedThreeTtlsAfterExpiryByDefault) {
  reg_.put("web", "a", spec(1000ms));
  run_for(1000ms + 3000ms - kTick);
  ASSERT_NE(get("web", "a"), nullptr);
  EXPECT_FALSE(get("web", "a")->healthy);
  run_for(2 * kTick);
  EXPECT_EQ(get("web", "a"), nullptr);
  EXPECT_EQ(reg_.counters().evictions, 1u);
  // The service stays known, empty, so that watchers see it emptied.
  auto view = reg_.query("web");
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->instances.empty());
  EXPECT_EQ(view->index, reg_.index());
  EXPECT_EQ(view->healthy_ratio, 1.0);
  EXPECT_FALSE(view->protected_mode);
}

class RegistryDeregisterTest : public RegistryTest {
 protected:
  RegistryDeregisterTest() : RegistryTest({.deregister_after = 500ms}) {}
};

TEST_F(RegistryDeregisterTest, RemovedAfterExplicitDeregisterAfter) {
  reg_.put("web", "a", spec(1000ms));
  run_for(1500ms - kTick);
  ASSERT_NE(get("web", "a"), nullptr);
  run_for(2 * kTick);
  EXPECT_EQ(get("web", "a"), nullptr);
}

TEST_F(RegistryTest, HeartbeatsKeepAnInstanceAliveIndefinitely) {
  reg_.put("web", "a", spec(1000ms));
  for (int i = 0; i < 100; ++i) {  // 90 s, 90 ttls
    run_for(900ms);
    ASSERT_EQ(reg_.heartbeat("web", "a"), Status::kOk);
    ASSERT_TRUE(get("web", "a")->healthy) << i;
  }
  EXPECT_EQ(reg_.counters().expiries, 0u);
  EXPECT_EQ(reg_.counters().heartbeats, 100u);
}

TEST_F(RegistryTest, HeartbeatRevivesAnUnhealthyInstanceAndItCanExpireAgain) {
  reg_.put("web", "a", spec(1000ms));
  run_for(1100ms);
  ASSERT_FALSE(get("web", "a")->healthy);
  const auto before = reg_.index();
  EXPECT_EQ(reg_.heartbeat("web", "a"), Status::kOk);
  EXPECT_TRUE(get("web", "a")->healthy);
  EXPECT_GT(reg_.index(), before);
  // Its timer waited for the old removal time (4.0 s); the new lease ends at
  // 2.1 s and must still be noticed on time.
  run_for(1000ms - kTick);
  EXPECT_TRUE(get("web", "a")->healthy);
  run_for(2 * kTick);
  EXPECT_FALSE(get("web", "a")->healthy);
}

TEST_F(RegistryTest, HeartbeatOrRemoveOfUnknownIsNotFound) {
  EXPECT_EQ(reg_.heartbeat("web", "a"), Status::kNotFound);
  reg_.put("web", "a", spec());
  EXPECT_EQ(reg_.heartbeat("web", "b"), Status::kNotFound);
  EXPECT_EQ(reg_.heartbeat("api", "a"), Status::kNotFound);
  EXPECT_EQ(reg_.remove("web", "b"), Status::kNotFound);
  EXPECT_EQ(reg_.remove("web", "a"), Status::kOk);
  EXPECT_EQ(reg_.heartbeat("web", "a"), Status::kNotFound);
  EXPECT_EQ(reg_.counters().heartbeats, 0u);
  EXPECT_EQ(reg_.counters().removals, 1u);
}

TEST_F(RegistryTest, QueryOfANeverSeenServiceIsEmpty) {
  EXPECT_FALSE(reg_.query("nope").has_value());
  reg_.watch("nope", 0, [] {});  // watching does not make it exist
  EXPECT_FALSE(reg_.query("nope").has_value());
  EXPECT_TRUE(reg_.services().empty());
}

TEST_F(RegistryTest, IndexChangesOnlyOnVisibleChanges) {
  EXPECT_EQ(reg_.put("web", "a", spec(1000ms)), Status::kCreated);
  const auto i1 = reg_.index();
  EXPECT_EQ(reg_.query("web")->index, i1);
  EXPECT_EQ(get("web", "a")->modify_index, i1);

  reg_.heartbeat("web", "a");
  EXPECT_EQ(reg_.put("web", "a", spec(1000ms)), Status::kOk);  // same spec: a renewal
  run_for(500ms);
  EXPECT_EQ(reg_.index(), i1);

  reg_.put("web", "b", spec());  // another instance
  const auto i2 = reg_.index();
  EXPECT_GT(i2, i1);
  EXPECT_EQ(get("web", "a")->modify_index, i1);
  EXPECT_EQ(get("web", "b")->modify_index, i2);

  EXPECT_EQ(reg_.put("web", "a", spec(1000ms, 9090)), Status::kOk);  // spec changed
  const auto i3 = reg_.index();
  EXPECT_GT(i3, i2);
  EXPECT_EQ(get("web", "a")->modify_index, i3);
  EXPECT_EQ(reg_.query("web")->index, i3);

  reg_.put("api", "x", spec());  // another service: ours keeps its index
  EXPECT_EQ(reg_.query("web")->index, i3);

  run_for(1000ms + kTick);  // everything expires: each a visible change
  const auto i4 = reg_.query("web")->index;
  EXPECT_GT(i4, i3);
  EXPECT_GT(get("web", "a")->modify_index, i3);
  EXPECT_GT(get("web", "b")->modify_index, i3);
  EXPECT_EQ(i4, std::max(get("web", "a")->modify_index, get("web", "b")->modify_index));
  reg_.remove("web", "b");
  EXPECT_GT(reg_.query("web")->index, i4);
}

TEST_F(RegistryTest, WatchWakesOnlyForItsOwnService) {
  reg_.put("web", "a", spec());
  reg_.put("api", "x", spec());
  int woken = 0;
  const auto id = reg_.watch("web", reg_.query("web")->index, [&] { ++woken; });
  EXPECT_NE(id, 0u);
  reg_.put("api", "y", spec());
  reg_.remove("api", "x");
  reg_.heartbeat("web", "a");  // nothing visible
  run_for(500ms);
  EXPECT_EQ(woken, 0);
  reg_.put("web", "b", spec());
  EXPECT_EQ(woken, 1);
  reg_.put("web", "c", spec());  // once only
  EXPECT_EQ(woken, 1);
}

TEST_F(RegistryTest, WatchWithAStaleIndexAnswersAtOnce) {
  reg_.put("web", "a", spec());
  const auto seen = reg_.query("web")->index;
  reg_.put("web", "b", spec());  // between the client's two queries
  bool woken = false;
  EXPECT_EQ(reg_.watch("web", seen, [&] { woken = true; }), 0u);
  EXPECT_FALSE(woken);
}

TEST_F(RegistryTest, WatchWakesOnExpiryAndRemoval) {
  reg_.put("web", "a", spec(1000ms));
  int woken = 0;
  reg_.watch("web", reg_.query("web")->index, [&] { ++woken; });
  run_for(1000ms + kTick);
  EXPECT_EQ(woken, 1);
  reg_.watch("web", reg_.query("web")->index, [&] { ++woken; });
  run_for(3000ms + kTick);
  EXPECT_EQ(woken, 2);
  EXPECT_TRUE(reg_.query("web")->instances.empty());
}

TEST_F(RegistryTest, UnwatchCancelsAndIsSafeAfterFiring) {
  reg_.put("web", "a", spec());
  int woken = 0;
  const auto id = reg_.watch("web", reg_.query("web")->index, [&] { ++woken; });
  reg_.unwatch(id);
  reg_.put("web", "b", spec());
  EXPECT_EQ(woken, 0);

  const auto id2 = reg_.watch("web", reg_.query("web")->index, [&] { ++woken; });
  reg_.put("web", "c", spec());
  EXPECT_EQ(woken, 1);
  reg_.unwatch(id2);  // already fired: nothing happens
  reg_.unwatch(12345);
  reg_.put("web", "d", spec());
  EXPECT_EQ(woken, 1);
}

TEST_F(RegistryTest, WatchOnAServiceThatDoesNotExistYet) {
  reg_.put("other", "x", spec());
  int woken = 0;
  EXPECT_NE(reg_.watch("web", reg_.index(), [&] { ++woken; }), 0u);
  int bogus = 0;  // an index this node never gave (another peer's): still woken
  EXPECT_NE(reg_.watch("web", reg_.index() + 1000, [&] { ++bogus; }), 0u);
  reg_.put("other", "y", spec());
  EXPECT_EQ(woken, 0);
  reg_.put("web", "a", spec());
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(bogus, 1);
  // An abandoned watch on a service that never appears leaves no trace.
  reg_.unwatch(reg_.watch("ghost", 0, [] {}));
  EXPECT_FALSE(reg_.query("ghost").has_value());
}

TEST_F(RegistryTest, WakeMayCallBackIntoTheRegistry) {
  reg_.put("web", "a", spec());
  std::vector<std::size_t> seen;
  std::function<void()> again = [&] {
    auto view = reg_.query("web");
    seen.push_back(view->instances.size());
    if (seen.size() < 3) reg_.watch("web", view->index, again);
  };
  reg_.watch("web", reg_.query("web")->index, again);
  reg_.put("web", "b", spec());
  reg_.put("web", "c", spec());
  reg_.put("web", "d", spec());
  reg_.put("web", "e", spec());
  EXPECT_EQ(seen, (std::vector<std::size_t>{2, 3, 4}));
}

TEST_F(RegistryTest, ServicesListsKnownServicesByName) {
  reg_.put("web", "a", spec());
  reg_.put("web", "b", spec());
  reg_.put("api", "x", spec());
  reg_.remove("api", "x");
  using List = std::vector<std::pair<std::string, std::size_t>>;
  EXPECT_EQ(reg_.services(), (List{{"api", 0}, {"web", 2}}));
}

class RegistryProtectTest : public RegistryTest {
 protected:
  RegistryProtectTest() : RegistryTest({.protect_threshold = 0.5}) {}
};

TEST_F(RegistryProtectTest, BelowThresholdListsEveryInstanceWithItsTrueFlag) {
  reg_.put("web", "a", spec(1000ms));
  reg_.put("web", "b", spec(5000ms));
  reg_.put("web", "c", spec(1000ms));
  reg_.put("web", "d", spec(5000ms));
  run_for(1000ms + kTick);  // a and c expire: 2 of 4 healthy, not below 0.5
  auto view = reg_.query("web");
  EXPECT_FALSE(view->protected_mode);
  EXPECT_DOUBLE_EQ(view->healthy_ratio, 0.5);
  EXPECT_EQ(ids("web"), (std::vector<std::string>{"b", "d"}));

  reg_.put("web", "e", spec(1000ms));
  reg_.put("web", "f", spec(1000ms));
  run_for(1000ms + kTick);  // 2 of 6 healthy
  view = reg_.query("web");
  EXPECT_TRUE(view->protected_mode);
  EXPECT_DOUBLE_EQ(view->healthy_ratio, 2.0 / 6.0);
  ASSERT_EQ(view->instances.size(), 6u);
  for (const Instance* i : view->instances) {
    EXPECT_EQ(i->healthy, i->id == "b" || i->id == "d") << i->id;
  }
  EXPECT_EQ(ids("web"), (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
}

TEST_F(RegistryTest, NoThresholdNeverProtects) {
  reg_.put("web", "a", spec(1000ms));
  run_for(1000ms + kTick);
  auto view = reg_.query("web");
  EXPECT_FALSE(view->protected_mode);
  EXPECT_EQ(view->healthy_ratio, 0.0);
  EXPECT_TRUE(view->instances.empty());
}

class RegistryLimitTest : public RegistryTest {
 protected:
  RegistryLimitTest() : RegistryTest({.max_services = 2, .max_instances_per_service = 2}) {}
};

TEST_F(RegistryLimitTest, OverALimitIsTooMany) {
  EXPECT_EQ(reg_.put("web", "a", spec()), Status::kCreated);
  EXPECT_EQ(reg_.put("web", "b", spec()), Status::kCreated);
  EXPECT_EQ(reg_.put("web", "c", spec()), Status::kTooMany);
  EXPECT_EQ(reg_.put("web", "a", spec(2000ms)), Status::kOk);  // replacing is fine
  EXPECT_EQ(reg_.put("api", "x", spec()), Status::kCreated);
  EXPECT_EQ(reg_.put("db", "x", spec()), Status::kTooMany);
  EXPECT_FALSE(reg_.query("db").has_value());
  EXPECT_EQ(reg_.counters().registrations, 4u);
  // Peers cannot push us past our own limits either.
  reg_.apply({.service = "web", .id = "c", .spec = spec(), .lease_left = 1000ms});
  EXPECT_EQ(reg_.query("web")->instances.size(), 2u);
}

TEST_F(RegistryTest, PutClampsTheTtlIntoTheConfiguredRange) {
  reg_.put("web", "a", spec(0ms));
  reg_.put("web", "b", spec(-5ms));
  reg_.put("web", "c", spec(std::chrono::hours(24 * 365 * 100)));
  EXPECT_EQ(get("web", "a")->spec.ttl, options_.min_ttl);
  EXPECT_EQ(get("web", "b")->spec.ttl, options_.min_ttl);
  EXPECT_EQ(get("web", "c")->spec.ttl, options_.max_ttl);
  run_for(options_.min_ttl - 1ms);
  EXPECT_TRUE(get("web", "a")->healthy);
  run_for(kTick + 1ms);
  EXPECT_FALSE(get("web", "a")->healthy);
  EXPECT_TRUE(get("web", "c")->healthy);
}

TEST_F(RegistryTest, LocalChangesGoToOnChange) {
  std::vector<Change> changes;
  reg_.on_change = [&](const Change& c) { changes.push_back(c); };
  reg_.put("web", "a", spec(1000ms));
  run_for(300ms);
  reg_.heartbeat("web", "a");
  reg_.remove("web", "a");
  reg_.heartbeat("web", "a");  // unknown: nothing to send
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].kind, Change::Kind::kPut);
  EXPECT_EQ(changes[1].kind, Change::Kind::kPut);
  EXPECT_EQ(changes[1].spec, spec(1000ms));
  EXPECT_EQ(changes[1].lease_left, 1000ms);
  EXPECT_EQ(changes[2].kind, Change::Kind::kRemove);
  EXPECT_EQ(changes[2].service, "web");
  EXPECT_EQ(changes[2].id, "a");
}

TEST_F(RegistryTest, ApplyNeverEchoesToOnChange) {
  int calls = 0;
  reg_.on_change = [&](const Change&) { ++calls; };
  reg_.apply({.service = "web", .id = "a", .spec = spec(), .lease_left = 1000ms});
  reg_.apply({.service = "web", .id = "a", .spec = spec(1000ms, 1), .lease_left = 900ms});
  reg_.apply(removal("web", "a"));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(reg_.counters().registrations + reg_.counters().removals, 0u);
}

TEST_F(RegistryTest, ApplyInsertsAnUnknownInstance) {
  reg_.apply({.service = "web", .id = "a", .spec = spec(1000ms), .lease_left = 400ms});
  reg_.apply({.service = "web", .id = "b", .spec = spec(1000ms), .lease_left = -200ms});
  reg_.apply({.service = "web", .id = "gone", .spec = spec(1000ms), .lease_left = -5000ms});
  EXPECT_TRUE(get("web", "a")->healthy);
  EXPECT_FALSE(get("web", "b")->healthy);  // lease over already
  EXPECT_EQ(get("web", "gone"), nullptr);  // past its removal time: not worth inserting
  run_for(400ms);
  EXPECT_FALSE(get("web", "a")->healthy);  // the peer's lease, not a fresh one
  run_for(2600ms - 200ms + kTick);  // b: lease -200 ms + 3 s deregister_after
  EXPECT_EQ(get("web", "b"), nullptr);
}

TEST_F(RegistryTest, ApplyNeverShortensALease) {
  reg_.put("web", "a", spec(1000ms));
  const auto index = reg_.index();
  // A replayed, older message: our lease (1000 ms) ends later.
  reg_.apply({.service = "web", .id = "a", .spec = spec(1000ms), .lease_left = 200ms});
  reg_.apply({.service = "web", .id = "a", .spec = spec(1000ms), .lease_left = -1000ms});
  EXPECT_EQ(reg_.index(), index);  // nothing visible
  run_for(1000ms - kTick);
  EXPECT_TRUE(get("web", "a")->healthy);
  // A later heartbeat on the peer extends it.
  reg_.apply({.service = "web", .id = "a", .spec = spec(1000ms), .lease_left = 1000ms});
  run_for(1000ms - kTick);
  EXPECT_TRUE(get("web", "a")->healthy);
  run_for(2 * kTick);
  EXPECT_FALSE(get("web", "a")->healthy);
}

TEST_F(RegistryTest, ApplyRevivesAndReplacesTheSpec) {
  reg_.put("web", "a", spec(1000ms));
  run_for(1000ms + kTick);
  ASSERT_FALSE(get("web", "a")->healthy);
  auto index = reg_.index();
  reg_.apply({.service = "web", .id = "a", .spec = spec(1000ms), .lease_left = 800ms});
  EXPECT_TRUE(get("web", "a")->healthy);
  EXPECT_GT(reg_.index(), index);
  index = reg_.index();
  reg_.apply({.service = "web", .id = "a", .spec = spec(1000ms, 9999), .lease_left = 100ms});
  EXPECT_EQ(get("web", "a")->spec.port, 9999);
  EXPECT_GT(reg_.index(), index);
  run_for(800ms - kTick);  // the longer lease (800 ms) still holds
  EXPECT_TRUE(get("web", "a")->healthy);
  run_for(2 * kTick);
  EXPECT_FALSE(get("web", "a")->healthy);
}

TEST_F(RegistryTest, ApplyRemove) {
  reg_.put("web", "a", spec());
  int woken = 0;
  reg_.watch("web", reg_.index(), [&] { ++woken; });
  reg_.apply(removal("web", "a"));
  reg_.apply(removal("web", "a"));  // again: nothing
  EXPECT_EQ(get("web", "a"), nullptr);
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(reg_.timer_wheel().size(), 0u);
}

TEST_F(RegistryTest, DumpFillsAnotherRegistry) {
  reg_.put("web", "a", spec(1000ms));
  reg_.put("web", "b", spec(2000ms, 81));
  reg_.put("api", "x", spec(5000ms));
  run_for(1500ms);  // a is unhealthy, with 2.5 s left before removal

  core::ManualClock other_clock;
  Registry other(other_clock, {});
  for (const Change& c : reg_.dump()) other.apply(c);
  EXPECT_EQ(other.services(), reg_.services());
  for (const std::string service : {"web", "api"}) {
    auto mine = reg_.query(service, false);
    auto theirs = other.query(service, false);
    ASSERT_EQ(mine->instances.size(), theirs->instances.size());
    for (std::size_t i = 0; i < mine->instances.size(); ++i) {
      EXPECT_EQ(mine->instances[i]->id, theirs->instances[i]->id);
      EXPECT_EQ(mine->instances[i]->spec, theirs->instances[i]->spec);
      EXPECT_EQ(mine->instances[i]->healthy, theirs->instances[i]->healthy);
    }
  }
  // Leases carry over: b expires on both sides at the same time.
  clock_.advance(500ms - kTick);
  other_clock.advance(500ms - kTick);
  reg_.advance();
  other.advance();
  EXPECT_TRUE(other.query("web", false)->instances[1]->healthy);
  clock_.advance(2 * kTick);
  other_clock.advance(2 * kTick);
  reg_.advance();
  other.advance();
  EXPECT_FALSE(get("web", "b")->healthy);
  EXPECT_FALSE(other.query("web", false)->instances[1]->healthy);
}

TEST_F(RegistryTest, HeartbeatsDoNotTouchTheWheel) {
  reg_.put("web", "a", spec(1000ms));
  reg_.put("web", "b", spec(1000ms));
  const auto schedules = reg_.timer_wheel().schedules();
  const auto index = reg_.index();
  for (int i = 0; i < 100'000; ++i) {
    reg_.heartbeat("web", i % 2 ? "a" : "b");
    if (i % 100 == 0) run_for(kTick);  // 10 s in all: many early firings
  }
  EXPECT_EQ(reg_.timer_wheel().size(), 2u);
  EXPECT_LE(reg_.timer_wheel().pool_size(), 2u);
  // Only the lazy re-arms, one per lease time (about 10), not per heartbeat.
  EXPECT_LT(reg_.timer_wheel().schedules() - schedules, 50u);
  EXPECT_EQ(reg_.index(), index);
  EXPECT_EQ(reg_.counters().heartbeats, 100'000u);
  run_for(1000ms + kTick);  // and the lease still ends on time
  EXPECT_FALSE(get("web", "a")->healthy);
}

}  // namespace
}  // namespace failover::registry
