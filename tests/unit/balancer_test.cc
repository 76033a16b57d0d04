#include "lb/balancer.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace failover::lb {
namespace {

constexpr int kPicks = 12'000;

// Share of picks each candidate got over kPicks picks.
std::vector<double> shares(Balancer& b, std::span<const Candidate> cs) {
  std::vector<int> counts(cs.size(), 0);
  for (int i = 0; i < kPicks; ++i) ++counts.at(b.pick(cs));
  std::vector<double> out;
  for (int c : counts) out.push_back(static_cast<double>(c) / kPicks);
  return out;
}

void expect_weighted_shares(Balance kind, double tolerance) {
  const std::array<Candidate, 3> cs = {{{0, 1, 0}, {1, 2, 0}, {2, 3, 0}}};
  auto b = make_balancer(kind, 42);
  const auto got = shares(*b, cs);
  EXPECT_NEAR(got[0], 1.0 / 6, tolerance) << static_cast<int>(kind);
  EXPECT_NEAR(got[1], 2.0 / 6, tolerance) << static_cast<int>(kind);
  EXPECT_NEAR(got[2], 3.0 / 6, tolerance) << static_cast<int>(kind);
}

TEST(Balancer, RoundRobinFollowsWeightsExactly) {
  // Deterministic: 12,000 is a multiple of the weight sum.
  expect_weighted_shares(Balance::kRoundRobin, 1e-9);
}

TEST(Balancer, RandomFollowsWeights) { expect_weighted_shares(Balance::kRandom, 0.02); }

TEST(Balancer, LeastConnFollowsWeightsWhenIdle) {
  expect_weighted_shares(Balance::kLeastConn, 1e-9);
}

TEST(Balancer, PowerOfTwoFollowsWeightsWhenIdle) {
  // With equal loads p2c keeps the first of two weighted draws, i.e. weighted random.
  expect_weighted_shares(Balance::kP2C, 0.02);
}

TEST(Balancer, RoundRobinIsSmoothAsNginxDocuments) {
  const std::array<Candidate, 3> cs = {{{0, 5, 0}, {1, 1, 0}, {2, 1, 0}}};
  auto b = make_balancer(Balance::kRoundRobin, 1);
  std::string seq;
  for (int i = 0; i < 14; ++i) seq += static_cast<char>('a' + b->pick(cs));
  EXPECT_EQ(seq, "aabacaa" "aabacaa");
}

TEST(Balancer, RoundRobinKeepsStateOfServersMissingFromACall) {
  const std::array<Candidate, 3> all = {{{0, 1, 0}, {1, 1, 0}, {2, 1, 0}}};
  // Server 2 was already tried by this request; the others come in another order.
  const std::array<Candidate, 2> retry = {{{1, 1, 0}, {0, 1, 0}}};
  auto b = make_balancer(Balance::kRoundRobin, 1);
  EXPECT_EQ(all[b->pick(all)].id, 0u);
  EXPECT_EQ(all[b->pick(all)].id, 1u);
  EXPECT_EQ(retry[b->pick(retry)].id, 1u);
  // Server 2 kept its accumulated weight while it was left out, so it is
  // next, and server 0 follows, not server 1 again.
  EXPECT_EQ(all[b->pick(all)].id, 2u);
  EXPECT_EQ(all[b->pick(all)].id, 0u);
}

TEST(Balancer, LeastConnPrefersFewerActive) {
  const std::array<Candidate, 3> cs = {{{0, 1, 5}, {1, 1, 2}, {2, 1, 9}}};
  auto b = make_balancer(Balance::kLeastConn, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b->pick(cs), 1u);
}

TEST(Balancer, LeastConnComparesActiveRelativeToWeight) {
  // 4/4 = 1 beats 2/1 = 2 although it has more requests in flight.
  const std::array<Candidate, 2> cs = {{{0, 1, 2}, {1, 4, 4}}};
  auto b = make_balancer(Balance::kLeastConn, 1);
  EXPECT_EQ(b->pick(cs), 1u);
}

TEST(Balancer, LeastConnBreaksTiesRoundRobin) {
  // 0 and 2 tie at one in flight; 1 is busier and never picked.
  const std::array<Candidate, 3> cs = {{{0, 1, 1}, {1, 1, 7}, {2, 1, 1}}};
  auto b = make_balancer(Balance::kLeastConn, 1);
  std::vector<std::size_t> seq;
  for (int i = 0; i < 6; ++i) seq.push_back(b->pick(cs));
  EXPECT_EQ(seq, (std::vector<std::size_t>{0, 2, 0, 2, 0, 2}));
}

TEST(Balancer, PowerOfTwoNeverPicksTheMoreLoadedOfTwo) {
  const std::array<Candidate, 2> cs = {{{0, 1, 100}, {1, 1, 1}}};
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    auto b = make_balancer(Balance::kP2C, seed);
    for (int i = 0; i < 500; ++i) ASSERT_EQ(b->pick(cs), 1u) << "seed " << seed;
  }
}

TEST(Balancer, PowerOfTwoAvoidsTheMostLoaded) {
  const std::array<Candidate, 4> cs = {{{0, 1, 1}, {1, 1, 2}, {2, 1, 1000}, {3, 1, 3}}};
  auto b = make_balancer(Balance::kP2C, 7);
  for (int i = 0; i < kPicks; ++i) ASSERT_NE(b->pick(cs), 2u);
}

TEST(Balancer, SingleCandidateIsAlwaysPicked) {
  const std::array<Candidate, 1> cs = {{{37, 3, 12}}};
  for (Balance kind : {Balance::kRoundRobin, Balance::kRandom, Balance::kLeastConn, Balance::kP2C}) {
    auto b = make_balancer(kind, 3);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(b->pick(cs), 0u) << static_cast<int>(kind);
  }
}

TEST(Balancer, SameSeedGivesSameSequence) {
  const std::array<Candidate, 3> cs = {{{0, 1, 0}, {1, 2, 0}, {2, 3, 0}}};
  for (Balance kind : {Balance::kRandom, Balance::kP2C}) {
    auto a = make_balancer(kind, 99);
    auto b = make_balancer(kind, 99);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(a->pick(cs), b->pick(cs));
  }
}

}  // namespace
}  // namespace failover::lb
