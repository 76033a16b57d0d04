// Where a response body ends, as the proxy relays it (RFC 9112 6.3).
#include <gtest/gtest.h>

#include "lb/proxy_request.h"

namespace failover::lb {
namespace {

namespace http1 = net::http1;

http1::ResponseHead head_of(const std::string& text) {
  http1::ResponseHead h;
  http1::Error e;
  EXPECT_EQ(http1::parse_response(text, 64 * 1024, h, e), http1::Parse::kDone);
  return h;
}

TEST(BodyFraming, NoBodyForHeadRequests204And304) {
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  EXPECT_TRUE(BodyFraming::of(head_of(ok), true).done());
  EXPECT_TRUE(BodyFraming::of(head_of("HTTP/1.1 204 No Content\r\n\r\n"), false).done());
  EXPECT_TRUE(BodyFraming::of(head_of("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"), false).done());
}

TEST(BodyFraming, SizedBodyTakesExactlyItsLength) {
  BodyFraming f = BodyFraming::of(head_of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), false);
  http1::Error e = http1::Error::kNone;
  EXPECT_EQ(f.take("hel", e, nullptr), 3u);
  EXPECT_FALSE(f.done());
  EXPECT_EQ(f.take("loHTTP/1.1", e, nullptr), 2u) << "the rest is the next response";
  EXPECT_TRUE(f.done());
}

TEST(BodyFraming, WithoutLengthOrChunkedTheBodyRunsUntilClose) {
  BodyFraming f = BodyFraming::of(head_of("HTTP/1.1 200 OK\r\n\r\n"), false);
  EXPECT_TRUE(f.until_close());
  http1::Error e = http1::Error::kNone;
  EXPECT_EQ(f.take("anything", e, nullptr), 8u);
  EXPECT_FALSE(f.done());
}

TEST(BodyFraming, ChunkedIsRelayedRawOrDecodedForOldClients) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "5\r\nhello\r\n0\r\n\r\nNEXT";
  http1::Error e = http1::Error::kNone;
  BodyFraming raw = BodyFraming::of(head_of(head), false);
  EXPECT_EQ(raw.take(body, e, nullptr), body.size() - 4);
  EXPECT_TRUE(raw.done());
  BodyFraming old = BodyFraming::of(head_of(head), false);
  old.dechunk();
  std::string decoded;
  EXPECT_EQ(old.take(body, e, &decoded), body.size() - 4);
  EXPECT_EQ(decoded, "hello");
  EXPECT_TRUE(old.done());
}

}  // namespace
}  // namespace failover::lb
