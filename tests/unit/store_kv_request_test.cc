// The KV HTTP API's rules: parsing, preconditions and every reply's shape.
#include <gtest/gtest.h>

#include <string>

#include "store/kv_request.h"

namespace failover::store {
namespace {

net::HttpRequest http(std::string method, std::string target, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::HttpRequest r;
  r.method = std::move(method);
  r.target = target;
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// The parsed request, or a failed test.
KvRequest parsed(const net::HttpRequest& in) {
  KvParse p = parse_kv_request(in);
  if (auto* refused = std::get_if<net::HttpResponse>(&p)) {
    ADD_FAILURE() << in.method << " " << in.target << " refused " << refused->status << " " << refused->body;
    return {};
  }
  return std::get<KvRequest>(std::move(p));
}

// The status of the refusal, or 0 when the request was accepted.
int refusal(const net::HttpRequest& in) {
  KvParse p = parse_kv_request(in);
  auto* refused = std::get_if<net::HttpResponse>(&p);
  return refused ? refused->status : 0;
}

std::string header(const net::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "(none)";
}

TEST(KvRequest, ParsesKeyRoutesWithPercentDecodedKeys) {
  KvRequest get = parsed(http("GET", "/kv/user%2F42"));
  EXPECT_EQ(get.method, KvMethod::kGet);
  EXPECT_EQ(get.key, "user/42");
  EXPECT_FALSE(get.stale);

  KvRequest put = parsed(http("PUT", "/kv/a/b", "the value"));
  EXPECT_EQ(put.method, KvMethod::kPut);
  EXPECT_EQ(put.key, "a/b");
  EXPECT_EQ(put.value, "the value");
  EXPECT_FALSE(put.precondition.any());

  KvRequest del = parsed(http("DELETE", "/kv/%E2%82%AC"));
  EXPECT_EQ(del.method, KvMethod::kDelete);
  EXPECT_EQ(del.key, "\xE2\x82\xAC");  // the euro sign
}

TEST(KvRequest, StaleReadIsAQueryFlag) {
  EXPECT_TRUE(parsed(http("GET", "/kv/k?stale=1")).stale);
  EXPECT_FALSE(parsed(http("GET", "/kv/k?stale=0")).stale);
}

TEST(KvRequest, RefusesBadKeysWith400) {
  EXPECT_EQ(refusal(http("GET", "/kv/a%2")), 400);             // broken escape
  EXPECT_EQ(refusal(http("GET", "/kv/a%0Ab")), 400);           // control character
  EXPECT_EQ(refusal(http("GET", "/kv/a%7Fb")), 400);           // DEL
  EXPECT_EQ(refusal(http("GET", "/kv/a%00b")), 400);           // NUL: the state's reserved space
  EXPECT_EQ(refusal(http("GET", "/kv/a/../b")), 400);          // would be normalised elsewhere
  EXPECT_EQ(refusal(http("PUT", "/kv/..", "x")), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/./a", "x")), 400);
  EXPECT_EQ(refusal(http("GET", "/kv/%FF%FE")), 400);          // not UTF-8
  EXPECT_EQ(refusal(http("GET", "/kv/" + std::string(kMaxHttpKeyBytes + 1, 'k'))), 400);
  EXPECT_EQ(refusal(http("GET", "/kv/" + std::string(kMaxHttpKeyBytes, 'k'))), 0);
  EXPECT_EQ(refusal(http("GET", "/kv/a..b")), 0);  // only whole segments are refused
  EXPECT_EQ(refusal(http("GET", "/kv/.hidden")), 0);
}

TEST(KvRequest, RefusesOtherPathsAndMethods) {
  EXPECT_EQ(refusal(http("GET", "/kvx/a")), 404);
  net::HttpRequest post = http("POST", "/kv/a", "x");
  KvParse p = parse_kv_request(post);
  ASSERT_TRUE(std::holds_alternative<net::HttpResponse>(p));
  EXPECT_EQ(std::get<net::HttpResponse>(p).status, 405);
  EXPECT_EQ(header(std::get<net::HttpResponse>(p), "Allow"), "GET, PUT, DELETE");
  EXPECT_EQ(refusal(http("PUT", "/kv/", "x")), 405);  // no key to write
  EXPECT_EQ(refusal(http("DELETE", "/kv/")), 405);
}

TEST(KvRequest, ValueOverOneMebibyteIs413) {
  EXPECT_EQ(refusal(http("PUT", "/kv/k", std::string(kMaxHttpValueBytes + 1, 'v'))), 413);
  EXPECT_EQ(parsed(http("PUT", "/kv/k", std::string(kMaxHttpValueBytes, 'v'))).value.size(), kMaxHttpValueBytes);
  EXPECT_EQ(parsed(http("PUT", "/kv/k", "")).value, "");  // an empty value is a value
}

TEST(KvRequest, ParsesIfMatchBareOrQuotedAndStar) {
  EXPECT_EQ(parsed(http("PUT", "/kv/k", "v", {{"If-Match", "7"}})).precondition.if_match, 7u);
  EXPECT_EQ(parsed(http("PUT", "/kv/k", "v", {{"if-match", "\"42\""}})).precondition.if_match, 42u);
  EXPECT_TRUE(parsed(http("DELETE", "/kv/k", "", {{"If-Match", "*"}})).precondition.if_match_any);
  EXPECT_TRUE(parsed(http("PUT", "/kv/k", "v", {{"If-None-Match", "*"}})).precondition.if_none_match_any);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"If-Match", "seven"}})), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"If-Match", "\"1\", \"2\""}})), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"If-Match", "-1"}})), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"If-Match", "99999999999999999999999"}})), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"If-None-Match", "\"3\""}})), 400);
  // A GET ignores conditional headers rather than refusing them.
  EXPECT_FALSE(parsed(http("GET", "/kv/k", "", {{"If-Match", "junk"}})).precondition.any());
}

TEST(KvRequest, IdempotencyKeyIsPrintableAndBounded) {
  EXPECT_EQ(parsed(http("PUT", "/kv/k", "v", {{"Idempotency-Key", "c0ffee-1"}})).idempotency_key, "c0ffee-1");
  EXPECT_EQ(parsed(http("DELETE", "/kv/k", "", {{"Idempotency-Key", "d"}})).idempotency_key, "d");
  const std::string longest(kMaxHttpIdempotencyKeyBytes, 'i');
  EXPECT_EQ(parsed(http("PUT", "/kv/k", "v", {{"Idempotency-Key", longest}})).idempotency_key, longest);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"Idempotency-Key", longest + "i"}})), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"Idempotency-Key", ""}})), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"Idempotency-Key", "a b"}})), 400);
  EXPECT_EQ(refusal(http("PUT", "/kv/k", "v", {{"Idempotency-Key", "caf\xC3\xA9"}})), 400);
}

TEST(KvRequest, ParsesListQueryWithDefaultsAndCap) {
  KvRequest all = parsed(http("GET", "/kv/"));
  EXPECT_EQ(all.method, KvMethod::kList);
  EXPECT_EQ(all.prefix, "");
  EXPECT_EQ(all.after, "");
  EXPECT_EQ(all.limit, kDefaultListLimit);

  KvRequest page = parsed(http("GET", "/kv/?prefix=user%2F&limit=10&after=user%2F9&other=x"));
  EXPECT_EQ(page.prefix, "user/");
  EXPECT_EQ(page.after, "user/9");
  EXPECT_EQ(page.limit, 10u);
  EXPECT_EQ(parsed(http("GET", "/kv/?limit=5000")).limit, kMaxListLimit);
  EXPECT_EQ(refusal(http("GET", "/kv/?limit=0")), 400);
  EXPECT_EQ(refusal(http("GET", "/kv/?limit=ten")), 400);
  EXPECT_EQ(refusal(http("GET", "/kv/?prefix=%zz")), 400);
}

TEST(KvRequest, IfMatchFailsWhenAbsentOrDifferent) {
  const Precondition v7{.if_match = 7};
  EXPECT_TRUE(precondition_holds(v7, 7));
  EXPECT_FALSE(precondition_holds(v7, 8));
  EXPECT_FALSE(precondition_holds(v7, std::nullopt));
  const Precondition exists{.if_match = std::nullopt, .if_match_any = true};
  EXPECT_TRUE(precondition_holds(exists, 1));
  EXPECT_FALSE(precondition_holds(exists, std::nullopt));
}

TEST(KvRequest, IfNoneMatchStarFailsWhenPresent) {
  const Precondition create{.if_match = std::nullopt, .if_match_any = false, .if_none_match_any = true};
  EXPECT_TRUE(precondition_holds(create, std::nullopt));
  EXPECT_FALSE(precondition_holds(create, 3));
  EXPECT_TRUE(precondition_holds(Precondition{}, std::nullopt));
  EXPECT_TRUE(precondition_holds(Precondition{}, 3));
}

TEST(KvRequest, GetReplyIsTheRawValueWithItsVersionAsETag) {
  net::HttpResponse r = value_reply(std::string("\x00\x01raw", 5), 12);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::string("\x00\x01raw", 5));
  EXPECT_EQ(r.content_type, "application/octet-stream");
  EXPECT_EQ(header(r, "ETag"), "\"12\"");
}

TEST(KvRequest, WriteReplyCarriesVersionEpochAndSeq) {
  net::HttpResponse r = write_reply("a\"b", 12, 3, 12);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"key":"a\"b","version":12,"epoch":3,"seq":12})");
  EXPECT_EQ(header(r, "ETag"), "\"12\"");
  EXPECT_EQ(header(r, "X-Epoch"), "3");
  EXPECT_EQ(header(r, "X-Seq"), "12");
}

TEST(KvRequest, ErrorRepliesHaveTheirStatusAndHeaders) {
  EXPECT_EQ(not_found_reply("k").status, 404);
  net::HttpResponse present = precondition_failed_reply(5);
  EXPECT_EQ(present.status, 412);
  EXPECT_EQ(header(present, "ETag"), "\"5\"");
  EXPECT_EQ(header(precondition_failed_reply(std::nullopt), "ETag"), "(none)");

  net::HttpResponse busy = unavailable_reply("no primary");
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(header(busy, "Retry-After"), "1");
  EXPECT_EQ(header(busy, "X-Reason"), "no primary");
  EXPECT_EQ(busy.body, R"({"error":"no primary"})");
}

TEST(KvRequest, RedirectKeepsTheTargetAsSent) {
  net::HttpResponse r = redirect_reply("a", "127.0.0.1:7001", http("PUT", "/kv/user%2F1?x=1", "v"));
  EXPECT_EQ(r.status, 307);
  EXPECT_EQ(header(r, "Location"), "http://127.0.0.1:7001/kv/user%2F1?x=1");
  EXPECT_EQ(header(r, "X-Primary"), "a");
}

TEST(KvRequest, ListReplyGivesNonUtf8ValuesInBase64AndTheNextKey) {
  std::vector<ListItem> items = {
      {"a", 1, "text \xE2\x82\xAC"}, {"b", 2, std::string("\xFF\x00", 2)}, {"c", 3, "", 64u << 20}};
  net::HttpResponse more = list_reply(items, true);
  EXPECT_EQ(more.status, 200);
  EXPECT_EQ(more.body,
            "{\"items\":[{\"key\":\"a\",\"version\":1,\"value\":\"text \xE2\x82\xAC\"},"
            "{\"key\":\"b\",\"version\":2,\"value_base64\":\"/wA=\"},"
            "{\"key\":\"c\",\"version\":3,\"value_bytes\":67108864}],\"more\":true,\"next\":\"c\"}");
  EXPECT_EQ(list_reply({}, false).body, R"({"items":[],"more":false,"next":null})");
}

TEST(KvRequest, Utf8AndBase64Helpers) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain \xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));          // cut short
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace failover::store
