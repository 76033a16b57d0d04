// WitnessClient against a stand-in witness: what each answer and each way
// of failing becomes, above all which failures may have been applied
// (kTimeout) and which certainly were not (kUnavailable).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "arbiter/witness_client.h"
#include "arbiter/witness_request.h"
#include "async_test_util.h"
#include "support/fake_http_server.h"
#include "support/manual_time.h"

namespace failover::arbiter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

Record current() {
  Record r;
  r.cluster_id = "c0ffee";
  r.version = 2;
  r.epoch = 1;
  r.primary = "a";
  r.in_sync = {{"a", "disk-a"}, {"b", "disk-b"}};
  return r;
}

Record shrunk() {
  Record r = current();
  r.version = 3;
  r.in_sync = {{"a", "disk-a"}};
  return r;
}

class WitnessClientTest : public ::testing::Test {
 protected:
  CasAnswer cas(WitnessClient& client, std::uint64_t expected, Record proposed) {
    return test::run_to_end(io_, client.compare_and_set(expected, std::move(proposed)));
  }
  core::Result<Record> read(WitnessClient& client) { return test::run_to_end(io_, client.read()); }

  core::ManualClock clock_;  // outlives the io_context whose coroutines sleep on it
  asio::io_context io_;
  test::FakeHttpServer witness_{io_};
  WitnessClient client_{io_.get_executor(), witness_.host_port(), 500ms, clock_};
};

TEST_F(WitnessClientTest, ReadGetsTheRecord) {
  witness_.answer(200, to_json(current()));
  auto r = read(client_);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, current());
  ASSERT_EQ(witness_.seen().size(), 1u);
  EXPECT_EQ(witness_.seen()[0].method, "GET");
  EXPECT_EQ(witness_.seen()[0].target, "/record");
}

TEST_F(WitnessClientTest, ReadOfSomethingElseIsInvalid) {
  witness_.answer(200, R"({"role":"registry"})");
  EXPECT_TRUE(read(client_).is(core::ErrorCode::kInvalid));
  witness_.answer(404, R"({"error":"no"})");
  EXPECT_TRUE(read(client_).is(core::ErrorCode::kInvalid));
}

TEST_F(WitnessClientTest, CasPostsExpectedVersionAndProposal) {
  witness_.reply([](const net::HttpRequest& req) { return net::HttpResponse::json(200, to_json(shrunk())); });
  CasAnswer a = cas(client_, 2, shrunk());
  ASSERT_TRUE(a.result.ok()) << a.result.error().to_string();
  EXPECT_EQ(*a.result, shrunk());
  ASSERT_EQ(witness_.seen().size(), 1u);
  EXPECT_EQ(witness_.seen()[0].method, "POST");
  auto sent = parse_cas_request(witness_.seen()[0].body);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->expected_version, 2u);
  EXPECT_EQ(sent->record, shrunk());
}

TEST_F(WitnessClientTest, ConflictCarriesTheRecordThatWon) {
  Record winner = current();
  winner.version = 3;
  winner.epoch = 2;
  winner.primary = "b";
  winner.in_sync = {{"b", "disk-b"}};
  witness_.answer(409, conflict_reply_json(winner));
  CasAnswer a = cas(client_, 2, shrunk());
  EXPECT_TRUE(a.result.is(core::ErrorCode::kConflict));
  ASSERT_TRUE(a.current.has_value());
  EXPECT_EQ(*a.current, winner);
}

TEST_F(WitnessClientTest, ConflictWithOurOwnRecordIsOurSuccess) {
  // The first copy was applied, its answer lost; the retry finds it.
  witness_.answer(409, conflict_reply_json(shrunk()));
  CasAnswer a = cas(client_, 2, shrunk());
  ASSERT_TRUE(a.result.ok()) << a.result.error().to_string();
  EXPECT_EQ(*a.result, shrunk());
}

TEST_F(WitnessClientTest, RefusedRuleIsInvalidWithTheReason) {
  witness_.answer(400, R"({"error":"cluster_id cannot change"})");
  CasAnswer a = cas(client_, 2, shrunk());
  ASSERT_TRUE(a.result.is(core::ErrorCode::kInvalid));
  EXPECT_NE(a.result.error().message.find("cluster_id cannot change"), std::string::npos);
  EXPECT_FALSE(a.current.has_value());
}

TEST_F(WitnessClientTest, RefusedConnectionIsUnavailable) {
  witness_.refuse(true);
  CasAnswer a = cas(client_, 2, shrunk());
  EXPECT_TRUE(a.result.is(core::ErrorCode::kUnavailable)) << a.result.error().to_string();
  EXPECT_TRUE(read(client_).is(core::ErrorCode::kUnavailable));
}

TEST_F(WitnessClientTest, ClosedWithoutAnswerMayHaveBeenAppliedSoIsTimeout) {
  witness_.close(true);
  CasAnswer a = cas(client_, 2, shrunk());
  EXPECT_TRUE(a.result.is(core::ErrorCode::kTimeout)) << a.result.error().to_string();
  EXPECT_FALSE(witness_.seen().empty());
}

TEST_F(WitnessClientTest, ServerErrorMayHaveBeenAppliedSoIsTimeout) {
  witness_.answer(503, R"({"error":"cannot make the record durable"})");
  EXPECT_TRUE(cas(client_, 2, shrunk()).result.is(core::ErrorCode::kTimeout));
}

TEST_F(WitnessClientTest, NoAnswerWithinTheTimeoutOnTheClockIsTimeout) {
  witness_.delay(30s);  // real time: only the manual clock ends the wait
  std::optional<CasAnswer> answer;
  asio::co_spawn(io_, client_.compare_and_set(2, shrunk()), [&](std::exception_ptr e, CasAnswer a) {
    EXPECT_FALSE(e);
    answer = std::move(a);
  });
  ASSERT_TRUE(test::run_until(io_, [&] { return witness_.seen().size() == 1 && clock_.sleepers() == 1; }));
  test::run_for(io_, clock_, 499ms);
  EXPECT_FALSE(answer.has_value());
  test::run_for(io_, clock_, 1ms);
  ASSERT_TRUE(test::run_until(io_, [&] { return answer.has_value(); }));
  EXPECT_TRUE(answer->result.is(core::ErrorCode::kTimeout)) << answer->result.error().to_string();
}

TEST_F(WitnessClientTest, HttpGetBodyReadsANodeStatus) {
  witness_.answer(200, R"({"role":"backup"})");
  auto body = test::run_to_end(io_, http_get_body(io_.get_executor(), witness_.url(), "/status", 1s));
  ASSERT_TRUE(body.ok()) << body.error().to_string();
  EXPECT_EQ(*body, R"({"role":"backup"})");
  EXPECT_EQ(witness_.seen().back().target, "/status");
  auto bad = test::run_to_end(io_, http_get_body(io_.get_executor(), "ftp://x", "/status", 1s));
  EXPECT_TRUE(bad.is(core::ErrorCode::kInvalid));
}

}  // namespace
}  // namespace failover::arbiter
