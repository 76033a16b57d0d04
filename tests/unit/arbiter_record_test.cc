// The record every arbiter keeps, and the rules a change must obey.
#include <gtest/gtest.h>

#include <limits>

#include "arbiter/record.h"

namespace failover::arbiter {
namespace {

// Epoch 3, primary a, both in sync: the usual running cluster.
Record running() {
  Record r;
  r.cluster_id = "c0ffee";
  r.version = 7;
  r.epoch = 3;
  r.primary = "a";
  r.in_sync = {{"a", "disk-a"}, {"b", "disk-b"}};
  return r;
}

// The same record one version on, to be edited by each test.
Record next(const Record& r) {
  Record n = r;
  ++n.version;
  return n;
}

std::string refusal(const Record& current, const Record& proposed) {
  core::Result<void> r = check_transition(current, proposed);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "allowed" : r.error().message;
}

TEST(ArbiterRecord, ShrinkingInSyncIsAllowed) {
  Record n = next(running());
  n.in_sync = {{"a", "disk-a"}};
  EXPECT_TRUE(check_transition(running(), n).ok());
}

TEST(ArbiterRecord, VersionMustGrowByExactlyOne) {
  Record same = running();
  EXPECT_EQ(check_transition(running(), same).error().code, core::ErrorCode::kInvalid);
  Record skip = next(running());
  ++skip.version;
  EXPECT_EQ(refusal(running(), skip), "version must be 8");
}

TEST(ArbiterRecord, VersionCannotWrapAround) {
  Record top = running();
  top.version = std::numeric_limits<std::uint64_t>::max();
  Record wrapped = top;
  wrapped.version = 0;
  EXPECT_NE(refusal(top, wrapped).find("cannot grow"), std::string::npos);
}

TEST(ArbiterRecord, ClusterIdIsFixed) {
  Record n = next(running());
  n.cluster_id = "other";
  EXPECT_EQ(refusal(running(), n), "cluster_id cannot change");
}

TEST(ArbiterRecord, EpochNeverGoesDown) {
  Record n = next(running());
  n.epoch = 2;
  EXPECT_EQ(refusal(running(), n), "epoch cannot go down");
}

TEST(ArbiterRecord, NewPrimaryNeedsNewEpoch) {
  Record n = next(running());
  n.primary = "b";
  EXPECT_EQ(refusal(running(), n), "a new primary needs a new epoch");
  n.epoch = 4;
  n.in_sync = {{"b", "disk-b"}};
  EXPECT_TRUE(check_transition(running(), n).ok());
}

TEST(ArbiterRecord, EpochsMaySkip) {
  Record n = next(running());
  n.epoch = 9;
  n.primary = "b";
  n.in_sync = {{"b", "disk-b"}};
  EXPECT_TRUE(check_transition(running(), n).ok());
}

TEST(ArbiterRecord, PromotedNodeMustHaveBeenInSync) {
  Record current = running();
  current.in_sync = {{"a", "disk-a"}};  // b fell out: it may lack acknowledged writes
  Record n = next(current);
  n.epoch = 4;
  n.primary = "b";
  n.in_sync = {{"b", "disk-b"}};
  EXPECT_NE(refusal(current, n).find("was not in in_sync"), std::string::npos);
}

TEST(ArbiterRecord, PromotedNodeMustKeepItsStorageId) {
  // b's data_dir was wiped: same name, another disk.
  Record n = next(running());
  n.epoch = 4;
  n.primary = "b";
  n.in_sync = {{"b", "disk-b-new"}};
  EXPECT_NE(refusal(running(), n).find("storage_id disk-b-new"), std::string::npos);
}

TEST(ArbiterRecord, FirstPrimaryFromEpochZeroNeedsNoHistory) {
  Record empty;
  empty.cluster_id = "c0ffee";
  empty.version = 1;
  Record first = next(empty);
  first.epoch = 1;
  first.primary = "a";
  first.in_sync = {{"a", "disk-a"}};
  EXPECT_TRUE(check_transition(empty, first).ok());
}

TEST(ArbiterRecord, EpochZeroCannotNameAPrimaryWithoutRaisingIt) {
  Record empty;
  empty.cluster_id = "c0ffee";
  empty.version = 1;
  Record n = next(empty);
  n.primary = "a";
  n.in_sync = {{"a", "disk-a"}};
  EXPECT_EQ(refusal(empty, n), "a new primary needs a new epoch");
}

TEST(ArbiterRecord, PrimaryMustBeNamed) {
  Record n = next(running());
  n.primary = "";
  n.epoch = 4;
  EXPECT_EQ(refusal(running(), n), "primary must be named");
}

TEST(ArbiterRecord, PrimaryMustBeInInSync) {
  Record n = next(running());
  n.in_sync = {{"b", "disk-b"}};
  EXPECT_EQ(refusal(running(), n), "the primary must be in in_sync");
}

TEST(ArbiterRecord, NoNodeTwiceInInSync) {
  Record n = next(running());
  n.in_sync.push_back({"b", "disk-b2"});
  EXPECT_EQ(refusal(running(), n), "node b is twice in in_sync");
}

TEST(ArbiterRecord, MembersNeedNodeAndStorageId) {
  Record n = next(running());
  n.in_sync.push_back({"c", ""});
  EXPECT_EQ(refusal(running(), n), "in_sync members need node and storage_id");
}

TEST(ArbiterRecord, JsonRoundTrip) {
  const Record r = running();
  const std::string text = to_json(r);
  EXPECT_EQ(text,
            R"({"cluster_id":"c0ffee","version":7,"epoch":3,"primary":"a",)"
            R"("in_sync":[{"node":"a","storage_id":"disk-a"},{"node":"b","storage_id":"disk-b"}]})");
  core::Result<Record> back = record_from_json(text);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, r);
}

TEST(ArbiterRecord, JsonKeepsLargeVersions) {
  Record r = running();
  r.version = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(record_from_json(to_json(r))->version, r.version);
}

TEST(ArbiterRecord, BadJsonIsInvalid) {
  const char* bad[] = {
      "",
      "not json",
      "[]",
      R"({"version":1,"epoch":0,"primary":"","in_sync":[]})",                     // no cluster_id
      R"({"cluster_id":1,"version":1,"epoch":0,"primary":"","in_sync":[]})",      // not a string
      R"({"cluster_id":"c","version":-1,"epoch":0,"primary":"","in_sync":[]})",   // negative
      R"({"cluster_id":"c","version":1.5,"epoch":0,"primary":"","in_sync":[]})",  // not an integer
      R"({"cluster_id":"c","version":1,"epoch":"0","primary":"","in_sync":[]})",
      R"({"cluster_id":"c","version":1,"epoch":0,"in_sync":[]})",                 // no primary
      R"({"cluster_id":"c","version":1,"epoch":0,"primary":"","in_sync":{}})",
      R"({"cluster_id":"c","version":1,"epoch":0,"primary":"","in_sync":["a"]})",
      R"({"cluster_id":"c","version":1,"epoch":0,"primary":"","in_sync":[{"node":"a"}]})",
  };
  for (const char* text : bad) {
    core::Result<Record> r = record_from_json(text);
    EXPECT_TRUE(r.is(core::ErrorCode::kInvalid)) << text;
  }
}

TEST(ArbiterRecord, MemberLookup) {
  const Record r = running();
  ASSERT_NE(r.member("b"), nullptr);
  EXPECT_EQ(r.member("b")->storage_id, "disk-b");
  EXPECT_EQ(r.member("c"), nullptr);
  EXPECT_TRUE(r.has_member("a", "disk-a"));
  EXPECT_FALSE(r.has_member("a", "disk-b"));
}

}  // namespace
}  // namespace failover::arbiter
