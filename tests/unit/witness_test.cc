// The witness as its clients see it: GET and POST /record answered from the
// record, every change durable before a 200, and what a failed write does.
// Also its record file, its config, its request bodies and `recover`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "arbiter/record_file.h"
#include "arbiter/witness.h"
#include "arbiter/witness_config.h"
#include "arbiter/witness_recover.h"
#include "arbiter/witness_request.h"
#include "support/config_error.h"

namespace failover::arbiter {
namespace {

// A disk in memory: what save() was given, and a switch to make it fail.
class MemoryStore final : public RecordStore {
 public:
  core::Result<std::optional<Record>> load() override { return saved; }
  core::Result<void> save(const Record& record) override {
    if (fail) return core::Error::unavailable("fsync: Input/output error");
    saved = record;
    ++saves;
    return core::ok();
  }
  std::optional<Record> saved;
  bool fail = false;
  int saves = 0;
};

Record fresh() {
  Record r;
  r.cluster_id = "c0ffee";
  r.version = 1;
  return r;
}

Record first_primary() {
  Record r = fresh();
  r.version = 2;
  r.epoch = 1;
  r.primary = "a";
  r.in_sync = {{"a", "disk-a"}, {"b", "disk-b"}};
  return r;
}

net::HttpRequest get() {
  net::HttpRequest r;
  r.method = "GET";
  r.path = r.target = "/record";
  return r;
}

net::HttpRequest post(std::string body) {
  net::HttpRequest r;
  r.method = "POST";
  r.path = r.target = "/record";
  r.body = std::move(body);
  return r;
}

net::HttpRequest cas(std::uint64_t expected, const Record& proposed) {
  return post(cas_request_json({expected, proposed}));
}

class WitnessTest : public ::testing::Test {
 protected:
  MemoryStore store_;
  std::vector<std::string> lost_;
  Witness witness_{store_, fresh(), [this](const core::Error& e) { lost_.push_back(e.message); }};
};

TEST_F(WitnessTest, GetAnswersTheRecord) {
  auto r = witness_.handle(get());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*record_from_json(r->body), fresh());
}

TEST_F(WitnessTest, OtherPathsAreLeftToTheRole) {
  net::HttpRequest status = get();
  status.path = "/status";
  EXPECT_FALSE(witness_.handle(status));
}

TEST_F(WitnessTest, OtherMethodsAre405) {
  net::HttpRequest put = get();
  put.method = "PUT";
  EXPECT_EQ(witness_.handle(put)->status, 405);
}

TEST_F(WitnessTest, CasSavesBeforeAnswering) {
  auto r = witness_.handle(cas(1, first_primary()));
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(*record_from_json(r->body), first_primary());
  EXPECT_EQ(store_.saved, first_primary());
  EXPECT_EQ(witness_.record(), first_primary());
  EXPECT_EQ(witness_.handle(get())->body, to_json(first_primary()));
}

TEST_F(WitnessTest, WrongExpectedVersionIsAConflictWithTheCurrentRecord) {
  ASSERT_EQ(witness_.handle(cas(1, first_primary()))->status, 200);
  // A second node raced with the same expected version: it lost.
  Record other = fresh();
  other.version = 2;
  other.epoch = 1;
  other.primary = "b";
  other.in_sync = {{"b", "disk-b"}};
  auto r = witness_.handle(cas(1, other));
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(*parse_conflict_reply(r->body), first_primary());
  EXPECT_EQ(witness_.record(), first_primary());
  EXPECT_EQ(store_.saves, 1);
  EXPECT_EQ(witness_.counters().conflicts, 1u);
}

TEST_F(WitnessTest, RefusedTransitionIs400WithTheRule) {
  Record foreign = first_primary();
  foreign.cluster_id = "other";
  auto r = witness_.handle(cas(1, foreign));
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("cluster_id cannot change"), std::string::npos) << r->body;
  EXPECT_EQ(store_.saves, 0);
  EXPECT_EQ(witness_.record(), fresh());
}

TEST_F(WitnessTest, MalformedBodiesAre400AndChangeNothing) {
  for (std::string body : {std::string(""), std::string("{"), std::string("[]"),
                           std::string(R"({"expected_version":1})"),
                           std::string(R"({"expected_version":"1","record":{}})"),
                           std::string(R"({"expected_versoin":1,"record":)") + to_json(first_primary()) + "}",
                           std::string(kMaxRequestBytes + 1, ' ')}) {
    auto r = witness_.handle(post(body));
    EXPECT_EQ(r->status, 400) << body.substr(0, 80);
    EXPECT_NE(r->body.find("\"error\""), std::string::npos);
  }
  EXPECT_EQ(store_.saves, 0);
  EXPECT_EQ(witness_.counters().bad_requests, 7u);
}

TEST_F(WitnessTest, AFailedSaveIsNeverAnsweredOkAndStopsTheWitness) {
  store_.fail = true;
  auto r = witness_.handle(cas(1, first_primary()));
  EXPECT_EQ(r->status, 503);
  ASSERT_EQ(lost_.size(), 1u);
  EXPECT_NE(lost_[0].find("fsync"), std::string::npos);
  EXPECT_EQ(witness_.record(), fresh());  // not what may or may not be on disk
  EXPECT_FALSE(witness_.durable());
  // Even once the disk works again, nothing more is served from memory.
  store_.fail = false;
  EXPECT_EQ(witness_.handle(get())->status, 503);
  EXPECT_EQ(witness_.handle(cas(1, first_primary()))->status, 503);
}

TEST_F(WitnessTest, ChainOfChangesFollowsTheRules) {
  ASSERT_EQ(witness_.handle(cas(1, first_primary()))->status, 200);
  Record shrink = first_primary();
  shrink.version = 3;
  shrink.in_sync = {{"a", "disk-a"}};
  ASSERT_EQ(witness_.handle(cas(2, shrink))->status, 200);
  // b left in_sync, so it may lack writes: it cannot be promoted now.
  Record promote_b = shrink;
  promote_b.version = 4;
  promote_b.epoch = 2;
  promote_b.primary = "b";
  promote_b.in_sync = {{"b", "disk-b"}};
  EXPECT_EQ(witness_.handle(cas(3, promote_b))->status, 400);
  EXPECT_EQ(witness_.record(), shrink);
}

// ------------------------------------------------------------ record file

class RecordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("witness-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(RecordFileTest, NoFileIsNoRecord) {
  RecordFile file((dir_ / "data").string());
  auto r = file.load();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(RecordFileTest, SaveThenLoadInAnotherInstance) {
  ASSERT_TRUE(RecordFile((dir_ / "data").string()).save(first_primary()).ok());
  auto r = RecordFile((dir_ / "data").string()).load();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, first_primary());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "record.json.tmp"));
}

TEST_F(RecordFileTest, ACorruptFileIsInvalidNotEmpty) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "record.json") << "{\"cluster_id\":";
  auto r = RecordFile(dir_.string()).load();
  EXPECT_TRUE(r.is(core::ErrorCode::kInvalid));
}

TEST_F(RecordFileTest, AnUnwritableDirectoryFailsTheSave) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  auto r = RecordFile((dir_ / "file" / "sub").string()).save(fresh());
  EXPECT_TRUE(r.is(core::ErrorCode::kUnavailable));
}

TEST(NewClusterRecord, Has128BitHexIdAndNoPrimary) {
  const Record a = new_cluster_record();
  EXPECT_EQ(a.cluster_id.size(), 32u);
  EXPECT_EQ(a.cluster_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a.version, 1u);
  EXPECT_EQ(a.epoch, 0u);
  EXPECT_EQ(a.primary, "");
  EXPECT_TRUE(a.in_sync.empty());
  EXPECT_NE(new_cluster_record().cluster_id, a.cluster_id);
}

// ------------------------------------------------------------ config

TEST(WitnessConfig, ReadsListenAndDataDir) {
  const WitnessConfig c = parse_witness_config("witness:\n  listen: 127.0.0.1:7300\n  data_dir: /tmp/w\n", "w.yaml");
  EXPECT_EQ(c.listen, "127.0.0.1:7300");
  EXPECT_EQ(c.data_dir, "/tmp/w");
}

TEST(WitnessConfig, SharesAFileWithOtherSections) {
  const WitnessConfig c = parse_witness_config("store:\n  node: a\nwitness:\n  data_dir: w\n", "w.yaml");
  EXPECT_EQ(c.listen, "127.0.0.1:7200");
}

TEST(WitnessConfig, ErrorsNameFileAndLine) {
  EXPECT_EQ(test::error_of([] { parse_witness_config("witness:\n  listen: 127.0.0.1:7200\n", "w.yaml"); }),
            "w.yaml:2: witness: missing key data_dir");
  EXPECT_EQ(test::error_of([] { parse_witness_config("witness:\n  data_dir: d\n  listen: nowhere\n", "w.yaml"); })
                .substr(0, 34),
            "w.yaml:3: witness.listen: bad addr");
  EXPECT_NE(test::error_of([] { parse_witness_config("witness:\n  data_dir: d\n  lisen: x\n", "w.yaml"); })
                .find("w.yaml:3: witness: unknown key lisen"),
            std::string::npos);
  EXPECT_NE(test::error_of([] { parse_witness_config("registry: {}\n", "w.yaml"); }).find("w.yaml:"),
            std::string::npos);
}

// ------------------------------------------------------------ request bodies

TEST(WitnessRequest, CasRequestRoundTrip) {
  const CasRequest in{41, first_primary()};
  auto out = parse_cas_request(cas_request_json(in));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->expected_version, 41u);
  EXPECT_EQ(out->record, first_primary());
}

TEST(WitnessRequest, ConflictReplyRoundTrip) {
  EXPECT_EQ(*parse_conflict_reply(conflict_reply_json(first_primary())), first_primary());
  EXPECT_TRUE(parse_conflict_reply("{\"error\":\"x\"}").is(core::ErrorCode::kInvalid));
}

// ------------------------------------------------------------ recover

NodeReport answered(std::string url, Record record, std::uint64_t highest_epoch) {
  NodeReport r;
  r.url = std::move(url);
  r.highest_epoch = highest_epoch;
  r.record = std::move(record);
  return r;
}

NodeReport silent(std::string url) {
  NodeReport r;
  r.url = std::move(url);
  r.error = "connection refused";
  return r;
}

TEST(WitnessRecover, TakesTheHighestEpochThenVersionOneVersionOn) {
  Record older = first_primary();  // epoch 1, version 2
  Record newer = first_primary();
  newer.version = 5;
  newer.epoch = 2;
  newer.primary = "b";
  Record same_epoch_higher_version = newer;
  same_epoch_higher_version.version = 6;
  auto r = recover_record({answered("http://a", older, 1), answered("http://b", same_epoch_higher_version, 2),
                           answered("http://c", newer, 2)});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  Record want = same_epoch_higher_version;
  want.version = 7;
  EXPECT_EQ(r->record, want);
  EXPECT_TRUE(r->warnings.empty());

  // Epoch wins over version.
  Record high_version_old_epoch = older;
  high_version_old_epoch.version = 100;
  r = recover_record({answered("http://a", high_version_old_epoch, 1), answered("http://b", newer, 2)});
  EXPECT_EQ(r->record.epoch, 2u);
  EXPECT_EQ(r->record.version, 6u);
}

TEST(WitnessRecover, WarnsForNodesThatDidNotAnswer) {
  auto r = recover_record({silent("http://a"), answered("http://b", first_primary(), 1)});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("http://a did not answer"), std::string::npos);
  EXPECT_EQ(r->record.cluster_id, "c0ffee");
}

TEST(WitnessRecover, RefusesWhenNobodyAnswers) {
  EXPECT_TRUE(recover_record({silent("http://a"), silent("http://b")}).is(core::ErrorCode::kUnavailable));
  EXPECT_TRUE(recover_record({}).is(core::ErrorCode::kUnavailable));
}

TEST(WitnessRecover, RefusesTwoClusters) {
  Record other = first_primary();
  other.cluster_id = "beef";
  EXPECT_TRUE(recover_record({answered("http://a", first_primary(), 1), answered("http://b", other, 1)})
                  .is(core::ErrorCode::kInvalid));
}

TEST(WitnessRecover, WarnsWhenANodeSawAHigherEpochThanAnyRecord) {
  auto r = recover_record({answered("http://a", first_primary(), 3)});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("epoch 3"), std::string::npos);
}

TEST(WitnessRecover, ParsesANodeStatus) {
  auto r = parse_node_status(R"({"node":"a","role":"backup","highest_epoch":4,"record":)" + to_json(first_primary()) +
                             "}");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->highest_epoch, 4u);
  EXPECT_EQ(*r->record, first_primary());
  EXPECT_TRUE(parse_node_status(R"({"highest_epoch":4})").is(core::ErrorCode::kInvalid));
  EXPECT_TRUE(parse_node_status(R"({"record":)" + to_json(first_primary()) + "}").is(core::ErrorCode::kInvalid));
  EXPECT_TRUE(parse_node_status("<html>").is(core::ErrorCode::kInvalid));
}

}  // namespace
}  // namespace failover::arbiter
