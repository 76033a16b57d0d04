#include "net/http1.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace failover::net::http1 {
namespace {

constexpr std::size_t kMax = 8 * 1024;

struct Parsed {
  Parse parse;
  Error error;
};

Parsed request(std::string_view text, RequestHead& out, std::size_t max = kMax) {
  Error error = Error::kBadChunk;  // anything but kNone, to see that it is set
  const Parse p = parse_request(text, max, out, error);
  return {p, error};
}

Parsed response(std::string_view text, ResponseHead& out, std::size_t max = kMax) {
  Error error = Error::kBadChunk;
  const Parse p = parse_response(text, max, out, error);
  return {p, error};
}

Error request_error(const std::string& text) {
  RequestHead h;
  return request(text, h).error;
}

std::string value_of(const MessageHead& h, std::string_view name) {
  const Header* f = find_header(h, name);
  return f ? std::string(f->value) : "<none>";
}

const std::string kGet =
    "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
    "Accept: */*\r\n\r\n";

TEST(Http1, ParsesSimpleGet) {
  RequestHead h;
  auto r = request(kGet, h);
  ASSERT_EQ(r.parse, Parse::kDone);
  EXPECT_EQ(r.error, Error::kNone);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/index.html?q=1");
  EXPECT_EQ(h.host, "example.com");
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(h.head_size, kGet.size());
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.chunked);
  EXPECT_FALSE(h.upgrade);
  EXPECT_FALSE(h.expect_continue);
  EXPECT_FALSE(h.content_length.has_value());
  // Views into the caller's buffer, not copies.
  EXPECT_EQ(h.method.data(), kGet.data());
  EXPECT_EQ(h.headers[1].name, "User-Agent");
  EXPECT_EQ(h.headers[1].value.data(), kGet.data() + kGet.find("t\r\nAccept"));
}

TEST(Http1, TrimsValuesAndMatchesNamesInAnyCase) {
  RequestHead h;
  std::string t = "POST / HTTP/1.1\r\nHost: a\r\ncontent-LENGTH: \t 12 \t\r\nX-Empty:\r\nX-A:b  c \r\n\r\n";
  ASSERT_EQ(request(t, h).parse, Parse::kDone);
  EXPECT_EQ(h.content_length, 12u);
  EXPECT_EQ(value_of(h, "x-empty"), "");
  EXPECT_EQ(value_of(h, "X-A"), "b  c");
}

TEST(Http1, EmptyBufferIsIncomplete) {
  RequestHead rq;
  ResponseHead rs;
  EXPECT_EQ(request(std::string_view(), rq).parse, Parse::kIncomplete);  // data() is null
  EXPECT_EQ(response(std::string_view(), rs).parse, Parse::kIncomplete);
}

TEST(Http1, SkipsEmptyLinesBeforeRequestLine) {
  RequestHead h;
  const std::string t = "\r\n\r\n" + kGet;
  ASSERT_EQ(request(t, h).parse, Parse::kDone);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.head_size, t.size());
}

TEST(Http1, EveryPrefixOfValidRequestIsIncomplete) {
  const std::string t = "\r\nPOST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  const std::size_t head = t.size() - 3;
  for (std::size_t n = 0; n < head; ++n) {
    RequestHead h;
    auto r = request(std::string_view(t).substr(0, n), h);
    EXPECT_EQ(r.parse, Parse::kIncomplete) << n;
    EXPECT_EQ(r.error, Error::kNone) << n;
  }
  for (std::size_t n = head; n <= t.size(); ++n) {
    RequestHead h;
    ASSERT_EQ(request(std::string_view(t).substr(0, n), h).parse, Parse::kDone) << n;
    EXPECT_EQ(h.head_size, head);
  }
}

TEST(Http1, RequestSplitAcrossReadsParsesOnceComplete) {
  std::string buffer;
  RequestHead h;
  buffer += "GET /a HTTP/1.1\r\nHo";
  EXPECT_EQ(request(buffer, h).parse, Parse::kIncomplete);
  buffer += "st: x\r\n\r";
  EXPECT_EQ(request(buffer, h).parse, Parse::kIncomplete);
  buffer += "\n";
  ASSERT_EQ(request(buffer, h).parse, Parse::kDone);
  EXPECT_EQ(h.host, "x");
}

TEST(Http1, PipelinedRequestsParseOneAfterAnother) {
  const std::string first = "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n";
  const std::string t = first + "ok" + kGet;
  RequestHead h;
  ASSERT_EQ(request(t, h).parse, Parse::kDone);
  EXPECT_EQ(h.head_size, first.size());
  ASSERT_EQ(request(std::string_view(t).substr(h.head_size + *h.content_length), h).parse,
            Parse::kDone);
  EXPECT_EQ(h.target, "/index.html?q=1");
  EXPECT_EQ(h.head_size, kGet.size());
  EXPECT_FALSE(h.content_length.has_value());  // nothing left over from the first
}

TEST(Http1, RefusesMalformedRequests) {
  const std::vector<std::pair<std::string, Error>> cases = {
      {"GET  / HTTP/1.1\r\n\r\n", Error::kBadRequestLine},
      {"GET / HTTP/1.1 \r\n\r\n", Error::kBadRequestLine},
      {"GET /a b HTTP/1.1\r\n\r\n", Error::kBadRequestLine},
      {"GET /\x01 HTTP/1.1\r\n\r\n", Error::kBadRequestLine},
      {"G(T / HTTP/1.1\r\n\r\n", Error::kBadRequestLine},
      {" / HTTP/1.1\r\n\r\n", Error::kBadRequestLine},
      {"GET HTTP/1.1\r\n\r\n", Error::kBadRequestLine},
      {"GET / HTTX/1.1\r\n\r\n", Error::kBadRequestLine},
      {"GET / HTTP/1.1\n\n", Error::kBadRequestLine},
      {"GET / HTTP/1.1\r\r\n\r\n", Error::kBadRequestLine},
      {"GET / HTTP/2.0\r\n\r\n", Error::kBadVersion},
      {"GET / HTTP/0.9\r\n\r\n", Error::kBadVersion},
      {"GET / HTTP/1.1\r\nHost: a\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\n\tX: a\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\n: a\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\nX(Y: a\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", Error::kBadHeader},
      {std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26), Error::kBadHeader},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Error::kBadHost},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", Error::kBadHost},
      {"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", Error::kBadHost},
      {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", Error::kBadHost},
      {"GET / HTTP/1.1\r\nX: y\r\n\r\n", Error::kBadHost},
      {"GET / HTTP/1.1\r\n\r\n", Error::kBadHost},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       Error::kUnknownCoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n",
       Error::kUnknownCoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
       "transfer-encoding: x;q=1 , CHUNKED\r\n\r\n",
       Error::kUnknownCoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
       Error::kBadTransferEncoding},
      {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", Error::kBadTransferEncoding},
  };
  for (const auto& [text, want] : cases) {
    RequestHead h;
    auto r = request(text, h);
    EXPECT_EQ(r.parse, Parse::kError) << text;
    EXPECT_EQ(r.error, want) << text << " gave " << error_message(r.error);
  }
}

TEST(Http1, FindsControlCharacterAnywhereInLongValue) {
  for (std::size_t at = 0; at < 24; ++at) {
    std::string value(24, 'v');
    value[at] = '\t';
    EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX: " + value + "\r\n\r\n"), Error::kNone) << at;
    for (char bad : {'\0', '\x1f', '\x7f', '\r', '\n'}) {
      value[at] = bad;
      EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nX: " + value + "\r\n\r\n"), Error::kBadHeader)
          << at << " " << int(bad);
    }
  }
}

TEST(Http1, RefusesBadRequestLineBeforeHeadEnds) {
  EXPECT_EQ(request_error("GET / HTTP/3.0\r\nHost: a\r\n"), Error::kBadVersion);
}

TEST(Http1, AcceptsSameContentLengthTwice) {
  RequestHead h;
  ASSERT_EQ(request("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\ncontent-length: 007\r\n\r\n", h).parse,
            Parse::kDone);
  EXPECT_EQ(h.content_length, 7u);
}

TEST(Http1, ReadsHigherMinorVersionAsHttp11) {
  RequestHead h;
  ASSERT_EQ(request("GET / HTTP/1.2\r\nHost: a\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_EQ(request("GET / HTTP/1.9\r\n\r\n", h).error, Error::kBadHost);  // 1.1 rules apply
  ResponseHead r;
  ASSERT_EQ(response("HTTP/1.5 200 OK\r\nContent-Length: 0\r\n\r\n", r).parse, Parse::kDone);
  EXPECT_EQ(r.version_minor, 1);
}

TEST(Http1, Http10NeedsNoHost) {
  RequestHead h;
  ASSERT_EQ(request("GET / HTTP/1.0\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_EQ(h.host, "");
}

TEST(Http1, AcceptsEmptyHostForTargetsWithoutAuthority) {
  RequestHead h;
  ASSERT_EQ(request("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_EQ(h.host, "");
}

TEST(Http1, HostFieldMustBeAnAuthority) {
  for (std::string_view ok : {"", "a", "example.com", "example.com:8080", "EXAMPLE.com:",
                              "127.0.0.1:80", "[::1]", "[::1]:443", "[v1.x]", "a%2Fb", "a-b_c~d",
                              "x!$&'()*+,;=y"})
    EXPECT_TRUE(valid_host_field(ok)) << ok;
  for (std::string_view bad : {"a b", "a/b", "a\\b", "user@host", "a:b", "a:80:90", "[::1",
                               "[]", "[::1]x", "[::1]:8a", "%zz", "a%2", "h\"", "a?b", "a#b",
                               "::1"})
    EXPECT_FALSE(valid_host_field(bad)) << bad;
}

TEST(Http1, CountsFieldsAgainstTheCallersLimit) {
  const std::string t = "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2\r\n\r\n";
  RequestHead h;
  Error e;
  EXPECT_EQ(parse_request(t, {kMax, 3}, h, e), Parse::kDone);
  EXPECT_EQ(parse_request(t, {kMax, 2}, h, e), Parse::kError);
  EXPECT_EQ(e, Error::kTooManyHeaders);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 500; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse_request(many + "\r\n", {kMax, 501}, h, e), Parse::kDone);
  EXPECT_EQ(h.headers.size(), 501u);
}

TEST(Http1, LimitsHeadSize) {
  RequestHead h;
  EXPECT_EQ(request(kGet, h, kGet.size()).parse, Parse::kDone);
  EXPECT_EQ(request(kGet, h, kGet.size() - 1).error, Error::kHeaderTooLarge);
  const std::string partial = kGet.substr(0, 30);
  EXPECT_EQ(request(partial, h, 30).parse, Parse::kIncomplete);
  EXPECT_EQ(request(partial, h, 29).error, Error::kHeaderTooLarge);
  // Bytes after the head (a body, the next request) do not count.
  EXPECT_EQ(request(kGet + std::string(100, 'x'), h, kGet.size()).parse, Parse::kDone);
}

TEST(Http1, LimitsHeaderCount) {
  std::string t = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (std::size_t i = 1; i < kDefaultMaxHeaders; ++i) t += "X-" + std::to_string(i) + ": v\r\n";
  RequestHead h;
  ASSERT_EQ(request(t + "\r\n", h).parse, Parse::kDone);
  EXPECT_EQ(h.headers.size(), kDefaultMaxHeaders);
  EXPECT_EQ(request(t + "One-More: v\r\n\r\n", h).error, Error::kTooManyHeaders);
}

TEST(Http1, KeepAliveFollowsVersionAndConnection) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"HTTP/1.1\r\n", true},
      {"HTTP/1.1\r\nConnection: close\r\n", false},
      {"HTTP/1.1\r\nConnection: foo, Close\r\n", false},
      {"HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n", false},
      {"HTTP/1.0\r\n", false},
      {"HTTP/1.0\r\nConnection: Keep-Alive\r\n", true},
      {"HTTP/1.0\r\nConnection: x\r\nConnection: keep-alive\r\n", true},
      {"HTTP/1.0\r\nConnection: keep-alive, close\r\n", false},
  };
  for (const auto& [rest, want] : cases) {
    RequestHead h;
    ASSERT_EQ(request("GET / " + rest + "Host: a\r\n\r\n", h).parse, Parse::kDone) << rest;
    EXPECT_EQ(h.keep_alive, want) << rest;
  }
}

TEST(Http1, UpgradeNeedsConnectionTokenAndUpgradeField) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n", true},
      {"HTTP/1.1\r\nUpgrade: websocket\r\n", false},
      {"HTTP/1.1\r\nConnection: upgrade\r\n", false},
      {"HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n", false},
  };
  for (const auto& [rest, want] : cases) {
    RequestHead h;
    ASSERT_EQ(request("GET / " + rest + "Host: a\r\n\r\n", h).parse, Parse::kDone) << rest;
    EXPECT_EQ(h.upgrade, want) << rest;
  }
}

TEST(Http1, ExpectContinueOnlyInHttp11) {
  RequestHead h;
  ASSERT_EQ(request("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_TRUE(h.expect_continue);
  ASSERT_EQ(request("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_FALSE(h.expect_continue);
}

TEST(Http1, ParsesResponses) {
  ResponseHead h;
  const std::string t = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nServer: s\r\n\r\nnot found";
  ASSERT_EQ(response(t, h).parse, Parse::kDone);
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(h.reason, "Not Found");
  EXPECT_EQ(h.content_length, 9u);
  EXPECT_EQ(h.head_size, t.size() - 9);
  EXPECT_TRUE(h.keep_alive);
  for (std::size_t n = 0; n < h.head_size; ++n)
    EXPECT_EQ(response(std::string_view(t).substr(0, n), h).parse, Parse::kIncomplete) << n;
}

TEST(Http1, ResponseReasonMayBeEmpty) {
  ResponseHead h;
  ASSERT_EQ(response("HTTP/1.1 204\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_EQ(h.status, 204);
  ASSERT_EQ(response("HTTP/1.0 200 \r\nConnection: keep-alive\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_EQ(h.reason, "");
  EXPECT_TRUE(h.keep_alive);
}

TEST(Http1, RefusesMalformedResponses) {
  const std::vector<std::pair<std::string, Error>> cases = {
      {"HTTP/1.1 20 OK\r\n\r\n", Error::kBadStatusLine},
      {"HTTP/1.1 2x0 OK\r\n\r\n", Error::kBadStatusLine},
      {"HTTP/1.1 099 Low\r\n\r\n", Error::kBadStatusLine},
      {"HTTP/1.1  200 OK\r\n\r\n", Error::kBadStatusLine},
      {"HTTP/1.1 200OK\r\n\r\n", Error::kBadStatusLine},
      {"HTTP/1.1 200 O\x01K\r\n\r\n", Error::kBadStatusLine},
      {"HTTX/1.1 200 OK\r\n\r\n", Error::kBadStatusLine},
      {"HTTP/1.1 200 OK\n\r\n", Error::kBadStatusLine},
      {"HTTP/2.0 200 OK\r\n\r\n", Error::kBadVersion},
      {"HTTP/1.1 200 OK\r\nX : y\r\n\r\n", Error::kBadHeader},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       Error::kBadContentLength},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
       Error::kBadTransferEncoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Error::kBadTransferEncoding},
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Error::kBadTransferEncoding},
  };
  for (const auto& [text, want] : cases) {
    ResponseHead h;
    EXPECT_EQ(response(text, h).error, want) << text;
  }
}

TEST(Http1, ResponseWithoutChunkedLastRunsUntilClose) {
  ResponseHead h;
  ASSERT_EQ(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", h).parse, Parse::kDone);
  EXPECT_FALSE(h.chunked);
  EXPECT_FALSE(h.content_length.has_value());
  EXPECT_FALSE(h.keep_alive);
  ASSERT_EQ(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", h).parse,
            Parse::kDone);
  EXPECT_TRUE(h.chunked);
  EXPECT_TRUE(h.keep_alive);
}

TEST(Http1, EveryErrorHasAMessage) {
  for (int e = 0; e <= static_cast<int>(Error::kBadChunk); ++e)
    EXPECT_STRNE(error_message(static_cast<Error>(e)), "unknown error") << e;
}

// What a scanner made of `in`: bytes used, done, error.

}  // namespace
}  // namespace failover::net::http1
