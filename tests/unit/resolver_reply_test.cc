#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "client/httpdns_reply.h"
#include "client/resolver_cache_file.h"
#include "net/hmac.h"

namespace failover::client {
namespace {

using namespace std::chrono_literals;
using Ips = std::vector<std::string>;

TEST(ResolverReply, ParsesTheContractShape) {
  const auto r = parse_httpdns_reply(R"({"www.example.com":{"ips":["127.0.0.11","127.0.0.12"],"ttl":60}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto* h = find_host(*r, "WWW.example.com");
  ASSERT_NE(h, nullptr);
  ASSERT_TRUE(h->answer) << h->answer.error().message;
  EXPECT_EQ(h->answer->ips, (Ips{"127.0.0.11", "127.0.0.12"}));
  EXPECT_TRUE(h->answer->ipsv6.empty());
  EXPECT_EQ(h->answer->ttl, 60s);
}

TEST(ResolverReply, ParsesIpv6AndSeveralHosts) {
  const auto r = parse_httpdns_reply(
      R"({"a.example":{"ips":[],"ipsv6":["::1","0:0::2"],"ttl":5},"b.example":{"error":"unknown host"},"origin":"x"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(find_host(*r, "a.example")->answer);
  EXPECT_EQ(find_host(*r, "a.example")->answer->ipsv6, (Ips{"::1", "::2"}));  // canonical spelling
  const auto& unknown = find_host(*r, "b.example")->answer;
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error(), core::Error::not_found("unknown host"));
  EXPECT_EQ(find_host(*r, "c.example"), nullptr);
}

TEST(ResolverReply, EmptyAnswerIsAnErrorNotNoIps) {
  const auto r = parse_httpdns_reply(R"({"a.example":{"ips":[],"ttl":60}})");
  ASSERT_TRUE(r.ok());
  const auto& empty = find_host(*r, "a.example")->answer;
  ASSERT_FALSE(empty);
  EXPECT_TRUE(empty.is(core::ErrorCode::kInvalid));
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
}

TEST(ResolverReply, ReplyLevelErrorIsAnError) {
  const auto r = parse_httpdns_reply(R"({"error":"unknown host www.example.com"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown host"), std::string::npos);
}

TEST(ResolverReply, RefusesEveryMalformedHostEntry) {
  const char* bad[] = {
      R"({"a":{"ttl":60}})",                                   // no ips
      R"({"a":{"ips":"127.0.0.1","ttl":60}})",                 // not an array
      R"({"a":{"ips":[1],"ttl":60}})",                         // not a string
      R"({"a":{"ips":["127.0.0.256"],"ttl":60}})",             // not an address
      R"({"a":{"ips":["::1"],"ttl":60}})",                     // v6 in ips
      R"({"a":{"ips":["127.0.0.1"],"ipsv6":["127.0.0.1"],"ttl":60}})",  // v4 in ipsv6
      R"({"a":{"ips":["127.0.0.1 "],"ttl":60}})",              // trailing space
      R"({"a":{"ips":["127.0.0.1"]}})",                        // no ttl
      R"({"a":{"ips":["127.0.0.1"],"ttl":-1}})",               // negative ttl
      R"({"a":{"ips":["127.0.0.1"],"ttl":1.5}})",              // not an integer
      R"({"a":{"ips":["127.0.0.1"],"ttl":"60"}})",             // a string
      R"({"a":{"ips":["127.0.0.1"],"ipsv6":{},"ttl":60}})",    // ipsv6 not an array
      R"({"a":[]})",                                           // not an object
      R"({"a":null})",
  };
  for (const char* body : bad) {
    const auto r = parse_httpdns_reply(body);
    ASSERT_TRUE(r.ok()) << body;
    ASSERT_EQ(r->size(), 1u) << body;
    EXPECT_TRUE(r->front().answer.is(core::ErrorCode::kInvalid)) << body;
    EXPECT_FALSE(r->front().answer.error().message.empty()) << body;
  }
}

TEST(ResolverReply, RefusesBodiesThatAreNotAReply) {
  for (const char* body : {"", "[]", "\"x\"", "{", "{\"a\":", "null", "{}x", "<html>"}) {
    const auto r = parse_httpdns_reply(body);
    if (r.ok()) EXPECT_TRUE(r->empty()) << body;  // "{}" alone would be an empty reply
    else EXPECT_TRUE(r.is(core::ErrorCode::kInvalid)) << body;
  }
  EXPECT_FALSE(parse_httpdns_reply("[]").ok());
  EXPECT_FALSE(parse_httpdns_reply("{").ok());
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_FALSE(parse_httpdns_reply(R"({"a":)" + deep + "}").ok());
}

TEST(ResolverReply, CapsTheTtlAndTheNumberOfAddresses) {
  auto r = parse_httpdns_reply(R"({"a":{"ips":["127.0.0.1"],"ttl":99999999999}})");
  EXPECT_EQ(r->front().answer->ttl, kMaxTtl);
  r = parse_httpdns_reply(R"({"a":{"ips":["127.0.0.1"],"ttl":18446744073709551615}})");
  EXPECT_EQ(r->front().answer->ttl, kMaxTtl);
  boost::json::array many;
  for (std::size_t i = 0; i <= kMaxAddresses; ++i) many.emplace_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  r = parse_httpdns_reply(boost::json::serialize(boost::json::object{{"a", {{"ips", many}, {"ttl", 1}}}}));
  EXPECT_FALSE(r->front().answer);
}

TEST(ResolverReply, DuplicateAddressesCountOnce) {
  const auto r = parse_httpdns_reply(R"({"a":{"ips":["127.0.0.1","127.0.0.1"],"ttl":1}})");
  EXPECT_EQ(r->front().answer->ips, Ips{"127.0.0.1"});
}

TEST(ResolverReply, FormatsTheContractShape) {
  HostAnswer a{{"127.0.0.11", "127.0.0.12"}, {}, 60s};
  EXPECT_EQ(format_httpdns_reply("www.example.com", a, 60s),
            R"({"www.example.com":{"ips":["127.0.0.11","127.0.0.12"],"ttl":60}})");
  a.ipsv6 = {"::1"};
  EXPECT_EQ(format_httpdns_reply("a", a, 5s), R"({"a":{"ips":["127.0.0.11","127.0.0.12"],"ipsv6":["::1"],"ttl":5}})");
}

TEST(ResolverHostName, AcceptsDnsNamesAndRefusesWhatNeedsEscaping) {
  EXPECT_TRUE(valid_host_name("www.example.com"));
  EXPECT_TRUE(valid_host_name("a-b_c.d1"));
  for (const char* bad : {"", ".", "a..b", ".a", "a.", "a b", "a&b", "a%20", "a/b", "a=b", "a,b"})
    EXPECT_FALSE(valid_host_name(bad)) << bad;
  EXPECT_FALSE(valid_host_name(std::string(64, 'a')));
  EXPECT_TRUE(valid_host_name(std::string(63, 'a')));
  EXPECT_FALSE(valid_host_name(std::string(254, 'a')));
  EXPECT_EQ(normalize_host("WWW.Example.COM."), "www.example.com");
}

TEST(ResolverSignature, UnsignedRequestCarriesOnlyTheHost) {
  EXPECT_EQ(httpdns_target("www.example.com", "", 1700000000), "/d?host=www.example.com");
}

TEST(ResolverSignature, SignsHostPlusExpiryWithHmacSha256) {
  const auto t = httpdns_target("www.example.com", "s3cret", 1700000300);
  EXPECT_EQ(t, "/d?host=www.example.com&t=1700000300&s=" +
                   net::hmac_sha256_hex("s3cret", "www.example.com1700000300"));
  // RFC 4231 test case 2 pins the HMAC itself.
  EXPECT_EQ(net::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(ResolverCacheFile, RoundTrips) {
  const std::vector<PersistedEntry> entries{
      {"a.example", {{"127.0.0.11", "127.0.0.12"}, {}, 60s}, 1'700'000'000'123},
      {"b.example", {{}, {"::1"}, 5s}, 1},
  };
  const auto parsed = parse_cache_file(serialize_cache_file(entries));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, entries);
}

TEST(ResolverCacheFile, RefusesAFileItDidNotWrite) {
  const char* bad[] = {
      "", "{", "[]", R"({"hosts":{}})", R"({"version":2,"hosts":{}})", R"({"version":1})",
      R"({"version":1,"hosts":{"A.example":{"ips":["127.0.0.1"],"ttl":1,"fetched_unix_ms":1}}})",  // not normalized
      R"({"version":1,"hosts":{"a b":{"ips":["127.0.0.1"],"ttl":1,"fetched_unix_ms":1}}})",
      R"({"version":1,"hosts":{"a":{"ips":["127.0.0.1"],"ttl":1}}})",
      R"({"version":1,"hosts":{"a":{"ips":["127.0.0.1"],"ttl":1,"fetched_unix_ms":-5}}})",
      R"({"version":1,"hosts":{"a":{"ips":[],"ttl":1,"fetched_unix_ms":1}}})",
      R"({"version":1,"hosts":{"a":{"ips":["x"],"ttl":1,"fetched_unix_ms":1}}})",
      R"({"version":1,"hosts":{"a":{"error":"x","fetched_unix_ms":1}}})",
  };
  for (const char* text : bad) {
    const auto parsed = parse_cache_file(text);
    EXPECT_TRUE(parsed.is(core::ErrorCode::kInvalid)) << text;
  }
}

TEST(ResolverCacheFile, WritesAtomicallyAndReadsBack) {
  const auto dir = std::filesystem::temp_directory_path() / ("resolver-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "cache.json").string();
  ASSERT_TRUE(write_file_atomically(path, "old").ok());
  ASSERT_TRUE(write_file_atomically(path, "new content").ok());
  const auto read = read_small_file(path, 1024);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, std::optional<std::string>("new content"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temporary left
  EXPECT_TRUE(read_small_file(path, 4).is(core::ErrorCode::kInvalid));  // too large
  const auto none = read_small_file((dir / "none").string(), 1024);
  ASSERT_TRUE(none.ok()) << none.error().message;  // missing is a first start, not an error
  EXPECT_FALSE(none->has_value());
  const auto unwritable = write_file_atomically((dir / "no" / "such" / "dir").string(), "x");
  ASSERT_FALSE(unwritable.ok());
  EXPECT_NE(unwritable.error().message, "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace failover::client
