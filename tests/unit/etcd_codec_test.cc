#include "etcd/codec.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

// The fixtures are replies captured from a real etcd 3.4.23 (Debian
// bookworm's etcd-server) through its JSON gateway, byte for byte.

namespace failover::etcd {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

json::value js(const std::string& text) { return json::parse(text); }

// ---------------------------------------------------------------- base64

TEST(EtcdBase64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << i;
    bytes += static_cast<char>(i * 37);
  }
}

TEST(EtcdBase64, MatchesWhatEtcdWrites) {
  EXPECT_EQ(base64_encode("fo/services/web/alive/web-1"), "Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x");
  EXPECT_EQ(base64_encode("fo/services/web/instances/web-1"),
            "Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItMQ==");
  EXPECT_EQ(base64_encode("xyz"), "eHl6");
  EXPECT_EQ(base64_encode("v3"), "djM=");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_decode("Zm8vb3RoZXI="), "fo/other");
  EXPECT_EQ(base64_decode("bw=="), "o");
  EXPECT_EQ(base64_decode("AA=="), std::string(1, '\0'));
}

TEST(EtcdBase64, RefusesWhatEtcdRefuses) {
  EXPECT_FALSE(base64_decode("Zm9vYg"));   // unpadded: etcd says "illegal base64 data at input byte 4"
  EXPECT_FALSE(base64_decode("_-8="));     // URL-safe alphabet
  EXPECT_FALSE(base64_decode("a b="));
  EXPECT_FALSE(base64_decode("A==="));
  EXPECT_FALSE(base64_decode("AA=A"));
  EXPECT_FALSE(base64_decode("AA==AAAA"));  // padding in the middle
  EXPECT_FALSE(base64_decode("A"));
}

TEST(EtcdPrefix, RangeEndIsPrefixPlusOne) {
  EXPECT_EQ(prefix_range_end("fo/services/"), "fo/services0");
  EXPECT_EQ(prefix_range_end("a\xff"), "b");
  EXPECT_EQ(prefix_range_end("a\xff\xff"), "b");
  EXPECT_EQ(prefix_range_end("\xff\xff"), std::string(1, '\0'));  // every key
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

// ---------------------------------------------------------------- requests

TEST(EtcdRequest, LeaseBodies) {
  EXPECT_EQ(js(lease_grant_request(5)), js(R"({"TTL":"5"})"));
  EXPECT_EQ(js(lease_grant_request(5, 1234)), js(R"({"TTL":"5","ID":"1234"})"));
  EXPECT_EQ(js(lease_keepalive_request(4111120228490140387)), js(R"({"ID":"4111120228490140387"})"));
  EXPECT_EQ(lease_keepalive_request(std::vector<LeaseId>{1, 2}), R"({"ID":"1"}{"ID":"2"})");
  EXPECT_EQ(lease_keepalive_request(std::vector<LeaseId>{}), "");
  EXPECT_EQ(js(lease_revoke_request(7)), js(R"({"ID":"7"})"));
  EXPECT_EQ(js(lease_timetolive_request(7, true)), js(R"({"ID":"7","keys":true})"));
  EXPECT_EQ(js(lease_timetolive_request(7)), js(R"({"ID":"7"})"));
}

TEST(EtcdRequest, KvBodies) {
  EXPECT_EQ(js(put_request("fo/services/web/alive/web-1", "", 4111120228490140391)),
            js(R"({"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","value":"","lease":"4111120228490140391"})"));
  EXPECT_EQ(js(put_request("k", "xyz", 0, true)), js(R"({"key":"aw==","value":"eHl6","prev_kv":true})"));
  EXPECT_EQ(js(range_prefix_request("fo/services/")),
            js(R"({"key":"Zm8vc2VydmljZXMv","range_end":"Zm8vc2VydmljZXMw"})"));
  EXPECT_EQ(js(range_prefix_request("fo/services/", 11)),
            js(R"({"key":"Zm8vc2VydmljZXMv","range_end":"Zm8vc2VydmljZXMw","revision":"11"})"));
  EXPECT_EQ(js(range_key_request("fo/other")), js(R"({"key":"Zm8vb3RoZXI="})"));
  EXPECT_EQ(js(delete_range_request("fo/other")), js(R"({"key":"Zm8vb3RoZXI="})"));
  EXPECT_EQ(js(delete_range_request("fo/services/", true)),
            js(R"({"key":"Zm8vc2VydmljZXMv","range_end":"Zm8vc2VydmljZXMw"})"));
}

TEST(EtcdRequest, TxnBody) {
  std::vector<TxnOp> ops{
      {.kind = TxnOp::Kind::kPut, .key = "t/1", .value = "x", .lease = 9},
      {.kind = TxnOp::Kind::kDelete, .key = "t/", .value = "", .lease = 0, .prefix = true},
  };
  EXPECT_EQ(js(txn_request(ops)), js(R"({"success":[
      {"request_put":{"key":"dC8x","value":"eA==","lease":"9"}},
      {"request_delete_range":{"key":"dC8=","range_end":"dDA="}}]})"));
}

TEST(EtcdRequest, WatchCreateBody) {
  EXPECT_EQ(js(watch_create_request("fo/services/", 9)),
            js(R"({"create_request":{"key":"Zm8vc2VydmljZXMv","range_end":"Zm8vc2VydmljZXMw","start_revision":"9"}})"));
  EXPECT_EQ(js(watch_create_request("fo/services/", 0, true, true)),
            js(R"({"create_request":{"key":"Zm8vc2VydmljZXMv","range_end":"Zm8vc2VydmljZXMw","prev_kv":true,"progress_notify":true}})"));
}

// ---------------------------------------------------------------- replies

constexpr const char* kGrant =
    R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"1","raft_term":"2"},"ID":"4111120228490140171","TTL":"2"})";

TEST(EtcdReply, LeaseGrant) {
  auto r = parse_lease_grant(kGrant);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 4111120228490140171);  // above 2^53: never through a double
  EXPECT_EQ(r->ttl, 2);                   // asked for 1, etcd's minimum is 2
  EXPECT_EQ(r->header.revision, 1);
  EXPECT_EQ(r->header.cluster_id, 15118495548433857066u);  // above INT64_MAX
  EXPECT_EQ(r->header.member_id, 13668033151171901709u);
  EXPECT_EQ(r->header.raft_term, 2u);
}

TEST(EtcdReply, LeaseGrantErrors) {
  auto r = parse_lease_grant(
      R"({"error":"etcdserver: lease already exists","message":"etcdserver: lease already exists","code":9})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().message, "etcdserver: lease already exists (grpc 9)");
  r = parse_lease_grant(R"({"error":"unexpected EOF","message":"unexpected EOF","code":3})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_FALSE(parse_lease_grant(R"({"header":{}})"));            // no ID
  EXPECT_FALSE(parse_lease_grant(R"({"ID":"5","TTL":"x"})"));     // not a number
  EXPECT_FALSE(parse_lease_grant(R"({"ID":5.5,"TTL":"2"})"));
  EXPECT_FALSE(parse_lease_grant(R"({"ID":"99999999999999999999","TTL":"2"})"));  // overflow
  EXPECT_FALSE(parse_lease_grant("404 page not found\n"));
}

TEST(EtcdReply, LeaseKeepAlive) {
  auto r = parse_lease_keepalive(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"7","raft_term":"2"},"ID":"4111120228490140387","TTL":"10"}})"
      "\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 4111120228490140387);
  EXPECT_EQ(r->ttl, 10);
  EXPECT_TRUE(r->alive());
  EXPECT_EQ(r->header.revision, 7);

  // An unknown, revoked or expired lease: 200 and no TTL.
  r = parse_lease_keepalive(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"7","raft_term":"2"},"ID":"999"}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 999);
  EXPECT_EQ(r->ttl, 0);
  EXPECT_FALSE(r->alive());
}

TEST(EtcdReply, LeaseKeepAliveStreamError) {
  auto r = parse_lease_keepalive(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message, "etcdserver: no leader (grpc 14)");
}

TEST(EtcdReply, LeaseKeepAliveBatchBody) {
  // One request body {"ID":B}{"ID":"999"}{"ID":A}: one line each, in order.
  const std::string body =
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"12024","raft_term":"4"},"ID":"4111120228536707729","TTL":"30"}})" "\n"
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"12024","raft_term":"4"},"ID":"999"}})" "\n"
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"12024","raft_term":"4"},"ID":"4111120228536707727","TTL":"20"}})" "\n";
  auto r = parse_lease_keepalive_body(body);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].id, 4111120228536707729);
  EXPECT_EQ((*r)[0].ttl, 30);
  EXPECT_FALSE((*r)[1].alive());
  EXPECT_EQ((*r)[2].ttl, 20);

  auto empty = parse_lease_keepalive_body("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(parse_lease_keepalive_body(body + "{\"result\":"));
}

TEST(EtcdReply, LeaseTimeToLive) {
  auto r = parse_lease_timetolive(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"11","raft_term":"2"},"ID":"4111120228490140391","TTL":"29","grantedTTL":"30","keys":["Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItMQ==","Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x"]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->ttl, 29);
  EXPECT_EQ(r->granted_ttl, 30);
  EXPECT_EQ(r->keys, (std::vector<std::string>{"fo/services/web/instances/web-1",
                                                "fo/services/web/alive/web-1"}));
  r = parse_lease_timetolive(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"7","raft_term":"2"},"ID":"999","TTL":"-1"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ttl, -1);
  EXPECT_EQ(r->granted_ttl, 0);
}

TEST(EtcdReply, RevokeAndItsNotFound) {
  auto r = parse_write_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"7","raft_term":"2"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header.revision, 7);
  r = parse_write_reply(
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST(EtcdReply, PutWithPrevKv) {
  auto r = parse_write_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"10","raft_term":"2"},"prev_kv":{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","create_revision":"9","mod_revision":"9","version":"1","lease":"4111120228490140391"}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->header.revision, 10);
  ASSERT_TRUE(r->prev_kv);
  EXPECT_EQ(r->prev_kv->key, "fo/services/web/alive/web-1");
  EXPECT_EQ(r->prev_kv->value, "");  // empty: left out
  EXPECT_EQ(r->prev_kv->lease, 4111120228490140391);
  EXPECT_EQ(r->prev_kv->version, 1);
}

TEST(EtcdReply, DeleteRange) {
  auto r = parse_write_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"12","raft_term":"2"},"deleted":"1"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted, 1);
  r = parse_write_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"12","raft_term":"2"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted, 0);
  r = parse_write_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"13","raft_term":"2"},"deleted":"1","prev_kvs":[{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","create_revision":"9","mod_revision":"10","version":"2","lease":"4111120228490140391"}]})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->prev_kvs.size(), 1u);
  EXPECT_EQ(r->prev_kvs[0].key, "fo/services/web/alive/web-1");
  EXPECT_EQ(r->prev_kvs[0].mod_revision, 10);
}

TEST(EtcdReply, Txn) {
  auto r = parse_write_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"23","raft_term":"3"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"23"}}},{"response_put":{"header":{"revision":"23"}}}]})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(r->header.revision, 23);
}

// ---------------------------------------------------------------- compare-and-set
// What the store's etcd arbiter does: read a key with its mod_revision, then
// put it only if nobody wrote it since.

TEST(EtcdCas, RequestComparesModRevisionAndReadsOnFailure) {
  EXPECT_EQ(js(cas_put_request("arb/rec", "v2", 41)), js(R"({
      "compare":[{"key":"YXJiL3JlYw==","target":"MOD","result":"EQUAL","mod_revision":"41"}],
      "success":[{"request_put":{"key":"YXJiL3JlYw==","value":"djI="}}],
      "failure":[{"request_range":{"key":"YXJiL3JlYw=="}}]})"));
}

TEST(EtcdCas, ZeroExpectedRevisionMeansCreateOnly) {
  // etcd compares a missing key's mod_revision as 0, so this creates the
  // key or fails if it exists; the revision is written, not left out.
  EXPECT_EQ(js(cas_put_request("k", "v", 0, 7)), js(R"({
      "compare":[{"key":"aw==","target":"MOD","result":"EQUAL","mod_revision":"0"}],
      "success":[{"request_put":{"key":"aw==","value":"dg==","lease":"7"}}],
      "failure":[{"request_range":{"key":"aw=="}}]})"));
}

TEST(EtcdCas, SucceededReplyGivesTheNewRevision) {
  auto r = parse_txn_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"42","raft_term":"3"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"42"}}}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(r->header.revision, 42);
  EXPECT_TRUE(r->range_kvs.empty());
}

TEST(EtcdCas, FailedReplyCarriesTheKeyAsItIsNow) {
  auto r = parse_txn_reply(
      R"({"header":{"revision":"45","raft_term":"3"},"responses":[{"response_range":{"header":{"revision":"45"},"kvs":[{"key":"YXJiL3JlYw==","create_revision":"40","mod_revision":"44","version":"3","value":"djM="}],"count":"1"}}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->succeeded);  // "succeeded":false is left out, as every default
  ASSERT_EQ(r->range_kvs.size(), 1u);
  EXPECT_EQ(r->range_kvs[0].key, "arb/rec");
  EXPECT_EQ(r->range_kvs[0].value, "v3");
  EXPECT_EQ(r->range_kvs[0].mod_revision, 44);
}

TEST(EtcdCas, RepliesCapturedFromEtcd) {
  // cas_put_request("k", "v", 0) sent twice to etcd 3.4.23's gateway: the
  // first creates the key, the second finds it there.
  EXPECT_EQ(js(cas_put_request("k", "v", 0)), js(R"({"compare":[{"key":"aw==","target":"MOD","result":"EQUAL","mod_revision":"0"}],"success":[{"request_put":{"key":"aw==","value":"dg=="}}],"failure":[{"request_range":{"key":"aw=="}}]})"));
  auto first = parse_txn_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"2","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"2"}}}]})");
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->succeeded);
  EXPECT_EQ(first->header.revision, 2);
  auto second = parse_txn_reply(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"2","raft_term":"2"},"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"aw==","create_revision":"2","mod_revision":"2","version":"1","value":"dg=="}],"count":"1"}}]})");
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->succeeded);
  ASSERT_EQ(second->range_kvs.size(), 1u);
  EXPECT_EQ(second->range_kvs[0].value, "v");
  EXPECT_EQ(second->range_kvs[0].mod_revision, 2);  // the revision to compare against next
}

TEST(EtcdCas, FailedCreateOnAnExistingKeyAndOnAVanishedOne) {
  auto r = parse_txn_reply(R"({"header":{"revision":"9"},"responses":[{"response_range":{"header":{"revision":"9"}}}]})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->succeeded);
  EXPECT_TRUE(r->range_kvs.empty());  // the key was deleted since it was read
}

TEST(EtcdCas, BadTxnRepliesAreInvalid) {
  for (const char* body : {R"({"succeeded":"yes"})", R"({"responses":{}})", R"({"responses":[1]})",
                           R"({"responses":[{"response_range":{"kvs":[{"key":"!!"}]}}]})",
                           R"({"responses":[{"response_range":[]}]})", "garbage"}) {
    auto r = parse_txn_reply(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid) << body;
  }
  auto r = parse_txn_reply(R"({"error":"etcdserver: request timed out","code":14})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(EtcdGet, OneKeyWithItsModRevision) {
  EXPECT_EQ(js(range_key_request("arb/rec")), js(R"({"key":"YXJiL3JlYw=="})"));
  auto r = parse_range(
      R"({"header":{"revision":"44"},"kvs":[{"key":"YXJiL3JlYw==","create_revision":"40","mod_revision":"44","version":"3","value":"djM="}],"count":"1"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].mod_revision, 44);
  EXPECT_EQ(r->kvs[0].create_revision, 40);
  // A key that does not exist: no kvs, the store's revision in the header.
  r = parse_range(R"({"header":{"revision":"44"}})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->kvs.empty());
  EXPECT_EQ(r->header.revision, 44);
}

TEST(EtcdErrors, GrpcCodesMapToErrorCodes) {
  EXPECT_EQ(error_from_grpc(4, "x").code, ErrorCode::kTimeout);
  EXPECT_EQ(error_from_grpc(14, "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(error_from_grpc(5, "x").code, ErrorCode::kNotFound);
  EXPECT_EQ(error_from_grpc(9, "x").code, ErrorCode::kConflict);
  EXPECT_EQ(error_from_grpc(11, "x").code, ErrorCode::kInvalid);
  EXPECT_EQ(error_from_grpc(16, "x").code, ErrorCode::kUnauthorized);
  EXPECT_EQ(error_from_grpc(13, "x").code, ErrorCode::kInternal);
  EXPECT_EQ(error_from_grpc(0, "x").message, "x");
  EXPECT_EQ(error_from_grpc(5, "gone").message, "gone (grpc 5)");
}

TEST(EtcdReply, RangeOverAPrefix) {
  auto r = parse_range(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"11","raft_term":"2"},"kvs":[{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","create_revision":"9","mod_revision":"10","version":"2","lease":"4111120228490140391"},{"key":"Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItMQ==","create_revision":"8","mod_revision":"8","version":"1","value":"eyJhZGRyZXNzIjoiMTI3LjAuMC4xIiwicG9ydCI6ODA4MCwidHRsX21zIjoxMDAwLCJtZXRhIjp7fX0=","lease":"4111120228490140391"},{"key":"Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItMg==","create_revision":"11","mod_revision":"11","version":"1","value":"eHl6"}],"count":"3"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->header.revision, 11);
  EXPECT_EQ(r->count, 3);
  EXPECT_FALSE(r->more);
  ASSERT_EQ(r->kvs.size(), 3u);
  EXPECT_EQ(r->kvs[0].key, "fo/services/web/alive/web-1");
  EXPECT_EQ(r->kvs[0].value, "");
  EXPECT_EQ(r->kvs[0].mod_revision, 10);
  EXPECT_EQ(r->kvs[0].create_revision, 9);
  EXPECT_EQ(r->kvs[1].key, "fo/services/web/instances/web-1");
  EXPECT_EQ(r->kvs[1].value, R"({"address":"127.0.0.1","port":8080,"ttl_ms":1000,"meta":{}})");
  EXPECT_EQ(r->kvs[1].lease, 4111120228490140391);
  EXPECT_EQ(r->kvs[2].value, "xyz");
  EXPECT_EQ(r->kvs[2].lease, 0);  // no lease: left out
}

TEST(EtcdReply, RangeEmptyAndLimited) {
  auto r = parse_range(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"7","raft_term":"2"}})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->kvs.empty());
  EXPECT_EQ(r->count, 0);
  EXPECT_EQ(r->header.revision, 7);
  r = parse_range(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"11","raft_term":"2"},"kvs":[{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","create_revision":"9","mod_revision":"10","version":"2","lease":"4111120228490140391"}],"more":true,"count":"3"})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->more);
  EXPECT_EQ(r->kvs.size(), 1u);
}

TEST(EtcdReply, RangeErrors) {
  auto r = parse_range(
      R"({"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(parse_range(R"({"kvs":[{"key":"not base64!"}]})"));
  EXPECT_FALSE(parse_range(R"({"kvs":{}})"));
  EXPECT_FALSE(parse_range(R"({"kvs":[1]})"));
  EXPECT_FALSE(parse_range(R"({"header":[]})"));
  EXPECT_FALSE(parse_range(R"({"header":{"revision":true}})"));
  EXPECT_FALSE(parse_range("[]"));
}

// ---------------------------------------------------------------- watch

TEST(EtcdWatch, Created) {
  auto r = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"13","raft_term":"2"},"created":true}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->created);
  EXPECT_FALSE(r->canceled);
  EXPECT_EQ(r->watch_id, 0);
  EXPECT_EQ(r->header.revision, 13);
  EXPECT_TRUE(r->events.empty());
  r = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"17","raft_term":"2"},"watch_id":"1","created":true}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->watch_id, 1);
}

TEST(EtcdWatch, HistoryReplayWithPutsAndDeletes) {
  auto r = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"13","raft_term":"2"},"events":[{"kv":{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","create_revision":"9","mod_revision":"9","version":"1","lease":"4111120228490140391"}},{"kv":{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","create_revision":"9","mod_revision":"10","version":"2","lease":"4111120228490140391"}},{"kv":{"key":"Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItMg==","create_revision":"11","mod_revision":"11","version":"1","value":"eHl6"}},{"type":"DELETE","kv":{"key":"Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItMg==","mod_revision":"12"}},{"type":"DELETE","kv":{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi0x","mod_revision":"13"}}]}})"
      "\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->created);
  ASSERT_EQ(r->events.size(), 5u);
  using T = Event::Type;
  EXPECT_EQ(r->events[0].type, T::kPut);  // PUT has no "type"
  EXPECT_EQ(r->events[0].kv.key, "fo/services/web/alive/web-1");
  EXPECT_EQ(r->events[0].kv.mod_revision, 9);
  EXPECT_EQ(r->events[0].kv.lease, 4111120228490140391);
  EXPECT_EQ(r->events[1].kv.mod_revision, 10);
  EXPECT_EQ(r->events[2].kv.value, "xyz");
  EXPECT_EQ(r->events[3].type, T::kDelete);
  EXPECT_EQ(r->events[3].kv.key, "fo/services/web/instances/web-2");
  EXPECT_EQ(r->events[3].kv.mod_revision, 12);
  EXPECT_EQ(r->events[3].kv.value, "");
  EXPECT_EQ(r->events[4].type, T::kDelete);
  EXPECT_EQ(r->events[4].kv.mod_revision, 13);
  EXPECT_EQ(r->header.revision, 13);
}

TEST(EtcdWatch, LeaseExpiryIsAPlainDelete) {
  auto r = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"17","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"Zm8vc2VydmljZXMvd2ViL2FsaXZlL3dlYi05","mod_revision":"17"}}]}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].type, Event::Type::kDelete);
  EXPECT_EQ(r->events[0].kv.key, "fo/services/web/alive/web-9");
}

TEST(EtcdWatch, PrevKv) {
  auto r = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"20","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItNA==","mod_revision":"20"},"prev_kv":{"key":"Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItNA==","create_revision":"18","mod_revision":"19","version":"2","value":"djU="}}]}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 1u);
  ASSERT_TRUE(r->events[0].prev_kv);
  EXPECT_EQ(r->events[0].prev_kv->value, "v5");
  EXPECT_EQ(r->events[0].prev_kv->mod_revision, 19);
}

TEST(EtcdWatch, CompactedAndCanceled) {
  auto r = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","raft_term":"2"},"canceled":true,"compact_revision":"15"}})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->canceled);
  EXPECT_EQ(r->compact_revision, 15);
  EXPECT_EQ(r->header.revision, 0);  // left out
  r = parse_watch_message(
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"22","raft_term":"2"},"canceled":true}})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->canceled);
  EXPECT_EQ(r->compact_revision, 0);
}

TEST(EtcdWatch, Errors) {
  auto r = parse_watch_message(
      R"({"error":"illegal base64 data at input byte 0","message":"illegal base64 data at input byte 0","code":2})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  r = parse_watch_message(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(parse_watch_message(R"({"result":{"events":[{"type":"PATCH","kv":{}}]}})"));
  EXPECT_FALSE(parse_watch_message(R"({"result":{"events":[{"type":"DELETE"}]}})"));
  EXPECT_FALSE(parse_watch_message(R"({"result":{"events":[{"kv":{"key":1}}]}})"));
  EXPECT_FALSE(parse_watch_message(R"({"result":{"created":"yes"}})"));
  EXPECT_FALSE(parse_watch_message(R"({"result":[]})"));
  EXPECT_FALSE(parse_watch_message(""));
}

TEST(EtcdWatch, StreamFraming) {
  // Each message comes as one HTTP chunk ending in "\n"; TCP may cut or glue them.
  const std::string a =
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"13","raft_term":"2"},"created":true}})"
      "\n";
  const std::string b =
      R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"14","raft_term":"2"},"events":[{"kv":{"key":"Zm8vc2VydmljZXMvd2ViL2luc3RhbmNlcy93ZWItMw==","create_revision":"14","mod_revision":"14","version":"1","value":"djM="}}]}})"
      "\n";
  std::string buffer;
  std::vector<std::string> got;
  const std::string all = a + b;
  for (std::size_t cut : {std::size_t{5}, a.size() - 1, a.size(), a.size() + 7}) {
    buffer.clear();
    got = take_stream_messages(buffer, std::string_view(all).substr(0, cut));
    auto rest = take_stream_messages(buffer, std::string_view(all).substr(cut));
    got.insert(got.end(), rest.begin(), rest.end());
    ASSERT_EQ(got.size(), 2u) << cut;
    EXPECT_TRUE(buffer.empty());
    EXPECT_EQ(got[0] + "\n", a);
    auto m = parse_watch_message(got[1]);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->events.size(), 1u);
    EXPECT_EQ(m->events[0].kv.value, "v3");
  }
  buffer.clear();
  EXPECT_TRUE(take_stream_messages(buffer, "\n\r\n  \n{\"res").empty());
  EXPECT_EQ(buffer, "{\"res");
}

TEST(EtcdParsers, NeverThrowOnGarbage) {
  const char* inputs[] = {
      "", "{", "}", "null", "1", "\"x\"", "[[[[", "{\"result\":null}", "{\"error\":null}",
      "{\"error\":1}", "{\"header\":{\"revision\":\"-\"}}", "{\"ID\":\"\"}",
      "{\"ID\":18446744073709551615}", "{\"ID\":-1,\"TTL\":-5}", "{\"kvs\":[{\"value\":\"====\"}]}",
      "\xff\xfe", "{\"a\":\"\xc3\x28\"}",
  };
  std::string deep(10000, '[');
  for (std::string_view in : inputs) {
    (void)parse_lease_grant(in);
    (void)parse_lease_keepalive(in);
    (void)parse_lease_keepalive_body(in);
    (void)parse_lease_timetolive(in);
    (void)parse_write_reply(in);
    (void)parse_range(in);
    (void)parse_watch_message(in);
    (void)parse_error(in);
    (void)parse_txn_reply(in);
  }
  EXPECT_FALSE(parse_range(deep));
  EXPECT_FALSE(parse_watch_message(deep));
  auto r = parse_lease_keepalive(R"({"ID":"-1","TTL":"-5"})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->alive());
}

TEST(EtcdParsers, ParseError) {
  auto e = parse_error(
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, ErrorCode::kNotFound);
  EXPECT_FALSE(parse_error(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"7","raft_term":"2"}})"));
  EXPECT_FALSE(parse_error("404 page not found"));
}

}  // namespace
}  // namespace failover::etcd
