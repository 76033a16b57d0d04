#include "store/epoch_history.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace failover::store {
namespace {

// Epochs 1, 3 and 7 (2 and 4-6 skipped): 1 wrote seqs 1-9, 3 wrote 10-24,
// 7 wrote 25 on.
EpochHistory skipped() {
  EpochHistory h;
  EXPECT_TRUE(h.add(1, 1));
  EXPECT_TRUE(h.add(3, 10));
  EXPECT_TRUE(h.add(7, 25));
  return h;
}

TEST(EpochHistory, EmptyKnowsNothing) {
  EpochHistory h;
  EXPECT_EQ(h.last_epoch(), 0u);
  EXPECT_EQ(h.epoch_at(0), 0u);
  EXPECT_EQ(h.epoch_at(5), 0u);
  EXPECT_EQ(h.end_of(0, 0), 1u);
  EXPECT_EQ(h.end_of(4, 10), 11u);
}

TEST(EpochHistory, AddIgnoresEpochsNotAboveTheLast) {
  EpochHistory h = skipped();
  EXPECT_FALSE(h.add(7, 30));
  EXPECT_FALSE(h.add(5, 30));
  EXPECT_FALSE(h.add(8, 24));  // before the last start: the log never goes back
  EXPECT_EQ(h, skipped());
  EXPECT_TRUE(h.add(8, 25));   // an epoch that wrote nothing before 8 took over
  EXPECT_EQ(h.last_epoch(), 8u);
}

TEST(EpochHistory, EpochAtEverySeq) {
  const EpochHistory h = skipped();
  EXPECT_EQ(h.epoch_at(0), 0u);
  for (uint64_t seq = 1; seq <= 9; ++seq) EXPECT_EQ(h.epoch_at(seq), 1u) << seq;
  for (uint64_t seq = 10; seq <= 24; ++seq) EXPECT_EQ(h.epoch_at(seq), 3u) << seq;
  EXPECT_EQ(h.epoch_at(25), 7u);
  EXPECT_EQ(h.epoch_at(1000), 7u);
}

TEST(EpochHistory, EpochAtBeforeTheFirstStartIsZero) {
  EpochHistory h;
  h.add(4, 100);
  EXPECT_EQ(h.epoch_at(99), 0u);
  EXPECT_EQ(h.epoch_at(100), 4u);
}

TEST(EpochHistory, SameFirstSeqGoesToTheHigherEpoch) {
  EpochHistory h;
  h.add(2, 5);
  h.add(3, 5);  // epoch 2 began and ended without an entry
  EXPECT_EQ(h.epoch_at(5), 3u);
  EXPECT_EQ(h.end_of(2, 9), 5u);
}

TEST(EpochHistory, EndOfEveryEpochWithSkippedOnes) {
  const EpochHistory h = skipped();
  const uint64_t log_end = 40;
  EXPECT_EQ(h.end_of(0, log_end), 1u);   // older than everything: keep nothing
  EXPECT_EQ(h.end_of(1, log_end), 10u);
  EXPECT_EQ(h.end_of(2, log_end), 10u);  // never had 2: the end of 1
  EXPECT_EQ(h.end_of(3, log_end), 25u);
  for (uint64_t e = 4; e <= 6; ++e) EXPECT_EQ(h.end_of(e, log_end), 25u) << e;  // the end of 3
  EXPECT_EQ(h.end_of(7, log_end), 41u);  // the last epoch: the log's end + 1
  EXPECT_EQ(h.end_of(9, log_end), 41u);  // newer than all we know
}

TEST(EpochHistory, TruncateDropsEpochsStartingAfterTheCut) {
  EpochHistory h = skipped();
  h.truncate_after(25);
  EXPECT_EQ(h, skipped());  // 7 starts at 25: kept
  h.truncate_after(24);
  EXPECT_EQ(h.last_epoch(), 3u);
  EXPECT_EQ(h.end_of(3, 24), 25u);
  h.truncate_after(9);
  EXPECT_EQ(h.last_epoch(), 1u);
  h.truncate_after(0);
  EXPECT_TRUE(h.empty());
  EXPECT_TRUE(h.add(2, 1));  // a truncated history takes new epochs again
}

TEST(EpochHistory, UpToKeepsTheOriginalWhole) {
  const EpochHistory h = skipped();
  EXPECT_EQ(h.up_to(12).last_epoch(), 3u);
  EXPECT_EQ(h.last_epoch(), 7u);
}

TEST(EpochHistory, JsonRoundTrips) {
  const EpochHistory h = skipped();
  const std::string text = boost::json::serialize(h.to_json());
  EXPECT_EQ(text, R"([{"epoch":1,"first_seq":1},{"epoch":3,"first_seq":10},{"epoch":7,"first_seq":25}])");
  auto back = EpochHistory::from_json(boost::json::parse(text));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_TRUE(EpochHistory::from_json(boost::json::parse("[]")).ok());
}

TEST(EpochHistory, JsonRefusesWhatIsNotAHistory) {
  for (const char* bad : {R"({})", R"([1])", R"([{"epoch":1}])", R"([{"epoch":-1,"first_seq":1}])",
                          R"([{"epoch":3,"first_seq":1},{"epoch":2,"first_seq":5}])",
                          R"([{"epoch":1,"first_seq":9},{"epoch":2,"first_seq":5}])",
                          R"([{"epoch":"1","first_seq":1}])"}) {
    EXPECT_TRUE(EpochHistory::from_json(boost::json::parse(bad)).is(core::ErrorCode::kInvalid)) << bad;
  }
}

}  // namespace
}  // namespace failover::store
