#include "core/clock.h"
#include "client/resolver_cache.h"

#include <gtest/gtest.h>

namespace failover::client {
namespace {

using namespace std::chrono_literals;

HostAnswer answer(std::vector<std::string> ips, std::chrono::seconds ttl = 60s) {
  return HostAnswer{std::move(ips), {}, ttl};
}

ResolverCacheOptions options(std::chrono::milliseconds max_stale = 30s, std::chrono::milliseconds retry = 1s) {
  ResolverCacheOptions o;
  o.max_stale = max_stale;
  o.refresh_retry = retry;
  return o;
}

TEST(ResolverCache, FirstLookupIsAMissThatAsksForAFetch) {
  core::ManualClock clock;
  ResolverCache cache(options());
  const auto look = cache.lookup("www.example.com", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kMiss);
  EXPECT_FALSE(look.cached);
  EXPECT_TRUE(look.fetch);
}

TEST(ResolverCache, ConcurrentMissesFetchOnce) {
  core::ManualClock clock;
  ResolverCache cache(options());
  EXPECT_TRUE(cache.lookup("a.example", clock.now()).fetch);
  EXPECT_FALSE(cache.lookup("a.example", clock.now()).fetch);  // waits for the first
  cache.fetch_failed("a.example", clock.now());
  EXPECT_TRUE(cache.lookup("a.example", clock.now()).fetch);   // a failed miss is a miss again
}

TEST(ResolverCache, AnswerIsFreshForItsTtlThenStale) {
  core::ManualClock clock;
  ResolverCache cache(options());
  cache.lookup("a.example", clock.now());
  cache.stored("a.example", answer({"127.0.0.11"}, 60s), "127.0.0.1:8053", clock.now());
  clock.advance(59s);
  auto look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kFresh);
  EXPECT_FALSE(look.fetch);
  EXPECT_EQ(look.ttl_left, 1s);
  ASSERT_TRUE(look.cached);
  EXPECT_EQ(look.cached->answer.ips, std::vector<std::string>{"127.0.0.11"});
  EXPECT_EQ(look.cached->server, "127.0.0.1:8053");
  clock.advance(1s);
  look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kStale);
  EXPECT_TRUE(look.fetch);
  ASSERT_TRUE(look.cached);  // still handed out meanwhile
  EXPECT_EQ(look.cached->answer.ips, std::vector<std::string>{"127.0.0.11"});
}

TEST(ResolverCache, StaleAnswerRefreshesOnceAtATime) {
  core::ManualClock clock;
  ResolverCache cache(options());
  cache.stored("a.example", answer({"127.0.0.11"}, 1s), "s", clock.now());
  clock.advance(2s);
  EXPECT_TRUE(cache.lookup("a.example", clock.now()).fetch);
  for (int i = 0; i < 5; ++i) {
    const auto look = cache.lookup("a.example", clock.now());
    EXPECT_EQ(look.freshness, Freshness::kStale);
    EXPECT_FALSE(look.fetch);  // single flight
  }
  cache.stored("a.example", answer({"127.0.0.12"}, 60s), "s", clock.now());
  const auto look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kFresh);
  EXPECT_EQ(look.cached->answer.ips, std::vector<std::string>{"127.0.0.12"});
}

TEST(ResolverCache, FailedRefreshKeepsTheStaleAnswerAndWaitsBeforeTheNext) {
  core::ManualClock clock;
  ResolverCache cache(options(30s, 1s));
  cache.stored("a.example", answer({"127.0.0.11"}, 1s), "s", clock.now());
  clock.advance(2s);
  ASSERT_TRUE(cache.lookup("a.example", clock.now()).fetch);
  cache.fetch_failed("a.example", clock.now());
  clock.advance(999ms);
  auto look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kStale);
  EXPECT_FALSE(look.fetch);
  clock.advance(1ms);
  EXPECT_TRUE(cache.lookup("a.example", clock.now()).fetch);
}

TEST(ResolverCache, StaleUseEndsAtMaxStale) {
  core::ManualClock clock;
  ResolverCache cache(options(10s));
  cache.stored("a.example", answer({"127.0.0.11"}, 5s), "s", clock.now());
  clock.advance(14'999ms);  // ttl + max_stale - 1ms
  auto look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kStale);
  EXPECT_EQ(look.past_ttl, 9'999ms);
  cache.fetch_failed("a.example", clock.now());
  clock.advance(1ms);
  look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kMiss);
  EXPECT_FALSE(look.cached);
  EXPECT_TRUE(look.fetch);
}

TEST(ResolverCache, MissDuringARunningRefreshWaitsForIt) {
  core::ManualClock clock;
  ResolverCache cache(options(1s));
  cache.stored("a.example", answer({"127.0.0.11"}, 1s), "s", clock.now());
  clock.advance(1500ms);
  ASSERT_TRUE(cache.lookup("a.example", clock.now()).fetch);  // refresh starts
  clock.advance(1s);                                           // past max_stale meanwhile
  const auto look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kMiss);
  EXPECT_FALSE(look.fetch);  // the running refresh is the fetch
}

TEST(ResolverCache, MarkedStaleAnswerRefreshesAtOnceAndKeepsItsMaxStale) {
  core::ManualClock clock;
  ResolverCache cache(options(10s));
  cache.stored("a.example", answer({"127.0.0.11"}, 60s), "s", clock.now());
  clock.advance(5s);
  cache.mark_stale("a.example", clock.now());  // every IP failed to connect
  auto look = cache.lookup("a.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kStale);
  EXPECT_TRUE(look.fetch);
  cache.fetch_failed("a.example", clock.now());
  clock.advance(9'999ms);
  EXPECT_EQ(cache.lookup("a.example", clock.now()).freshness, Freshness::kStale);
  clock.advance(1ms);
  EXPECT_EQ(cache.lookup("a.example", clock.now()).freshness, Freshness::kMiss);
}

TEST(ResolverCache, ZeroTtlIsNeverFresh) {
  core::ManualClock clock;
  ResolverCache cache(options());
  cache.stored("a.example", answer({"127.0.0.11"}, 0s), "s", clock.now());
  EXPECT_EQ(cache.lookup("a.example", clock.now()).freshness, Freshness::kStale);
}

TEST(ResolverCache, LoadedEntryWithinTtlIsFreshAndPastItStale) {
  core::ManualClock clock;
  ResolverCache cache(options(60s));
  const std::int64_t wall = 1'700'000'000'000;
  cache.load({{"fresh.example", answer({"127.0.0.11"}, 60s), wall - 10'000},
              {"stale.example", answer({"127.0.0.12"}, 60s), wall - 90'000},
              {"old.example", answer({"127.0.0.13"}, 60s), wall - 120'000}},
             clock.now(), wall);
  auto look = cache.lookup("fresh.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kFresh);
  EXPECT_EQ(look.ttl_left, 50s);
  EXPECT_TRUE(look.cached->persisted);
  EXPECT_FALSE(look.fetch);
  look = cache.lookup("stale.example", clock.now());
  EXPECT_EQ(look.freshness, Freshness::kStale);
  EXPECT_TRUE(look.cached->persisted);
  EXPECT_TRUE(look.fetch);
  EXPECT_EQ(cache.lookup("old.example", clock.now()).freshness, Freshness::kMiss);  // past max_stale
}

TEST(ResolverCache, LoadedEntryFromTheFutureCountsAsJustFetched) {
  core::ManualClock clock;
  ResolverCache cache(options());
  cache.load({{"a.example", answer({"127.0.0.11"}, 60s), 2'000'000}}, clock.now(), 1'000'000);
  EXPECT_EQ(cache.lookup("a.example", clock.now()).ttl_left, 60s);
}

TEST(ResolverCache, PersistsOnlyWhatIsStillWithinMaxStaleWithWallClockTimes) {
  core::ManualClock clock;
  ResolverCache cache(options(10s));
  cache.stored("b.example", answer({"127.0.0.12"}, 5s), "s", clock.now());
  clock.advance(3s);
  cache.stored("a.example", answer({"127.0.0.11"}, 60s), "s", clock.now());
  clock.advance(12s);  // b is now 15s old: ttl + max_stale
  const auto out = cache.to_persist(clock.now(), 1'000'000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].host, "a.example");
  EXPECT_EQ(out[0].fetched_unix_ms, 1'000'000 - 12'000);
  EXPECT_EQ(out[0].answer, answer({"127.0.0.11"}, 60s));
}

TEST(ResolverCache, DropsTheOldestAnswerWhenFull) {
  core::ManualClock clock;
  ResolverCacheOptions o = options();
  o.max_entries = 2;
  ResolverCache cache(o);
  cache.stored("a.example", answer({"127.0.0.1"}), "s", clock.now());
  clock.advance(1s);
  cache.stored("b.example", answer({"127.0.0.2"}), "s", clock.now());
  clock.advance(1s);
  cache.stored("c.example", answer({"127.0.0.3"}), "s", clock.now());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.lookup("b.example", clock.now()).freshness, Freshness::kFresh);
  EXPECT_EQ(cache.lookup("c.example", clock.now()).freshness, Freshness::kFresh);
}

}  // namespace
}  // namespace failover::client
