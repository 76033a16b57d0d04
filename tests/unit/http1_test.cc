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
  EXPECT_EQ(h.header_count, 3u);
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
  std::string t = "POST / HTTP/1.1\r\ncontent-LENGTH: \t 12 \t\r\nX-Empty:\r\nX-A:b  c \r\n\r\n";
  ASSERT_EQ(request(t, h).parse, Parse::kDone);
  EXPECT_EQ(h.content_length, 12u);
  EXPECT_EQ(value_of(h, "x-empty"), "");
  EXPECT_EQ(value_of(h, "X-A"), "b  c");
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
  const std::string first = "POST /1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
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
      {"GET / HTTP/1.2\r\n\r\n", Error::kBadVersion},
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
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Error::kBadHeader},
      {"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       Error::kBadContentLength},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", Error::kBadTransferEncoding},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
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
    EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: " + value + "\r\n\r\n"), Error::kNone) << at;
    for (char bad : {'\0', '\x1f', '\x7f', '\r', '\n'}) {
      value[at] = bad;
      EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: " + value + "\r\n\r\n"), Error::kBadHeader)
          << at << " " << int(bad);
    }
  }
}

TEST(Http1, RefusesBadRequestLineBeforeHeadEnds) {
  EXPECT_EQ(request_error("GET / HTTP/3.0\r\nHost: a\r\n"), Error::kBadVersion);
}

TEST(Http1, AcceptsSameContentLengthTwice) {
  RequestHead h;
  ASSERT_EQ(request("PUT / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 007\r\n\r\n", h).parse,
            Parse::kDone);
  EXPECT_EQ(h.content_length, 7u);
}

TEST(Http1, ChunkedMayFollowOtherCodings) {
  RequestHead h;
  ASSERT_EQ(request("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
                    "transfer-encoding: x;q=1 , CHUNKED\r\n\r\n",
                    h)
                .parse,
            Parse::kDone);
  EXPECT_TRUE(h.chunked);
  EXPECT_FALSE(h.content_length.has_value());
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
  std::string t = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < kMaxHeaders; ++i) t += "X-" + std::to_string(i) + ": v\r\n";
  RequestHead h;
  ASSERT_EQ(request(t + "\r\n", h).parse, Parse::kDone);
  EXPECT_EQ(h.header_count, kMaxHeaders);
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
    ASSERT_EQ(request("GET / " + rest + "\r\n", h).parse, Parse::kDone) << rest;
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
    ASSERT_EQ(request("GET / " + rest + "\r\n", h).parse, Parse::kDone) << rest;
    EXPECT_EQ(h.upgrade, want) << rest;
  }
}

TEST(Http1, ExpectContinueOnlyInHttp11) {
  RequestHead h;
  ASSERT_EQ(request("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n", h).parse, Parse::kDone);
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
struct Scan {
  std::size_t used;
  bool done;
  Error error;
  bool operator==(const Scan&) const = default;
};

Scan scan_whole(std::string_view in) {
  ChunkedScanner s;
  Error e;
  const std::size_t used = s.scan(in, e);
  return {used, s.done(), e};
}

Scan scan_bytes(std::string_view in) {
  ChunkedScanner s;
  Error e = Error::kNone;
  std::size_t used = 0;
  for (std::size_t i = 0; i < in.size() && !s.done() && e == Error::kNone; ++i)
    used += s.scan(in.substr(i, 1), e);
  return {used, s.done(), e};
}

const std::string kChunked = "5\r\nhello\r\n6;name=\"v\";x\r\n world\r\n0\r\n\r\n";

TEST(Http1, ScannerStopsAtEndOfBody) {
  const Scan s = scan_whole(kChunked + "GET / HTTP/1.1\r\n");
  EXPECT_EQ(s, (Scan{kChunked.size(), true, Error::kNone}));
  ChunkedScanner done;
  Error e;
  done.scan(kChunked, e);
  EXPECT_EQ(done.scan("more", e), 0u);  // the rest is the next message
  EXPECT_EQ(e, Error::kNone);
}

TEST(Http1, ScannerTakesTrailersAndExtensions) {
  const std::string body = "A ; ext = 1\r\n0123456789\r\n000;last\r\nX-Sum: abc\r\nY:\r\n\r\n";
  EXPECT_EQ(scan_whole(body + "x"), (Scan{body.size(), true, Error::kNone}));
}

TEST(Http1, ScannerNeedsMoreUntilLastChunk) {
  for (std::size_t n = 0; n < kChunked.size(); ++n)
    EXPECT_EQ(scan_whole(kChunked.substr(0, n)), (Scan{n, false, Error::kNone})) << n;
}

TEST(Http1, ScannerRefusesMalformedBodies) {
  const std::vector<std::pair<std::string, std::size_t>> cases = {
      // body, bytes before the error
      {"\r\n", 0},
      {"g\r\n", 0},
      {"5\nhello\r\n", 1},
      {"5\r\nhelloX\r\n", 8},
      {"5\r\nhello\n0\r\n\r\n", 8},
      {"5 \r\nhello\r\n", 2},
      {"5;a\nb\r\n", 3},
      {"5;a\x01\r\n", 3},
      {"-5\r\n", 0},
      {"10000000000000000\r\n", 16},  // 2^64: one hex digit too many
      {"0\r\n X: y\r\n\r\n", 3},
      {"0\r\nX : y\r\n\r\n", 4},
      {"0\r\nX: y\n\r\n", 7},
      {"0\r\n\r\r", 4},
  };
  for (const auto& [body, at] : cases) {
    EXPECT_EQ(scan_whole(body), (Scan{at, false, Error::kBadChunk})) << body;
    EXPECT_EQ(scan_bytes(body), (Scan{at, false, Error::kBadChunk})) << body;
  }
  // The largest size that fits is not an error.
  EXPECT_EQ(scan_whole("ffffffffffffffff\r\nab"), (Scan{20, false, Error::kNone}));
}

TEST(Http1, ScannerLimitsLineAndTrailerLength) {
  const std::string ext = "1;" + std::string(kMaxChunkLine - 2, 'x');
  EXPECT_EQ(scan_whole(ext + "\r\na\r\n0\r\n\r\n").error, Error::kNone);
  EXPECT_EQ(scan_whole(ext + "x\r\n"), (Scan{kMaxChunkLine, false, Error::kBadChunk}));
  std::string trailers = "0\r\n";
  while (trailers.size() < kMaxTrailerSize + 10)
    trailers += "X-T: " + std::string(90, 'v') + "\r\n";
  EXPECT_EQ(scan_whole(trailers + "\r\n").error, Error::kBadChunk);
}

TEST(Http1, ScannerErrorIsSticky) {
  ChunkedScanner s;
  Error e;
  EXPECT_EQ(s.scan("5\r\nhelloXX", e), 8u);
  EXPECT_EQ(e, Error::kBadChunk);
  EXPECT_EQ(s.scan("\r\n0\r\n\r\n", e), 0u);
  EXPECT_EQ(e, Error::kBadChunk);
}

TEST(Http1, ScannerByteAtATimeEqualsAllAtOnce) {
  const std::vector<std::string> bodies = {
      kChunked + "next", "1\r\na\r\n0\r\nT: 1\r\nU: 2\r\n\r\n",
      "0\r\n\r\n",       "3;\"q\"=x\r\nabc\r\n0\r\n",
      "5\r\nab",         "5\r\nhelloX",
      "0\r\n T\r\n",
  };
  for (const auto& b : bodies) EXPECT_EQ(scan_bytes(b), scan_whole(b)) << b;
}

TEST(Http1, DecoderAppendsData) {
  ChunkedDecoder whole(100), bytes(100);
  std::string a = "prefix:", b = "prefix:";
  std::size_t used = 0;
  Error e;
  EXPECT_EQ(whole.decode(kChunked + "rest", a, used, e), Decode::kDone);
  EXPECT_EQ(used, kChunked.size());
  EXPECT_EQ(a, "prefix:hello world");
  Decode d = Decode::kNeedMore;
  for (std::size_t i = 0; i < kChunked.size(); ++i) {
    d = bytes.decode(std::string_view(kChunked).substr(i, 1), b, used, e);
    ASSERT_EQ(used, 1u);
    ASSERT_EQ(d, i + 1 < kChunked.size() ? Decode::kNeedMore : Decode::kDone) << i;
  }
  EXPECT_EQ(b, a);
}

TEST(Http1, DecoderRefusesBodyOverLimitBeforeItsData) {
  std::string body;
  std::size_t used = 0;
  Error e;
  ChunkedDecoder exact(11);
  EXPECT_EQ(exact.decode(kChunked, body, used, e), Decode::kDone);
  ChunkedDecoder small(10);
  body.clear();
  EXPECT_EQ(small.decode(kChunked, body, used, e), Decode::kTooLarge);
  EXPECT_EQ(body, "hello");  // the second chunk was refused by its size line
  EXPECT_EQ(used, kChunked.find(" world"));
  EXPECT_EQ(small.decode("x", body, used, e), Decode::kTooLarge);
  EXPECT_EQ(used, 0u);
  ChunkedDecoder bad(10);
  EXPECT_EQ(bad.decode("z\r\n", body, used, e), Decode::kError);
  EXPECT_EQ(e, Error::kBadChunk);
}

RequestHead parsed_request(std::string_view text) {  // views into `text`
  RequestHead h;
  Error e;
  EXPECT_EQ(parse_request(text, kMax, h, e), Parse::kDone) << error_message(e);
  return h;
}

ResponseHead parsed_response(std::string_view text) {
  ResponseHead h;
  Error e;
  EXPECT_EQ(parse_response(text, kMax, h, e), Parse::kDone) << error_message(e);
  return h;
}

const std::string kBusyRequest =
    "POST /form HTTP/1.0\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\n"
    "X-Secret: s\r\nProxy-Connection: x\r\nTE: trailers\r\nTrailer: T\r\n"
    "Proxy-Authorization: p\r\nProxy-Authenticate: q\r\nUpgrade: h2c\r\n"
    "Content-Length: 4\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-proto: https\r\n"
    "Accept: */*\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n";

TEST(Http1, RequestWriterStripsHopByHopAndForwardsClient) {
  const RequestHead req = parsed_request(kBusyRequest);
  std::string out;
  write_request_head(req, "10.0.0.9", 4, false, out);
  EXPECT_EQ(out,
            "POST /form HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n"
            "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
            "Content-Length: 4\r\n\r\n");
}

TEST(Http1, RequestWriterDropsListNamedInConnection) {
  const RequestHead req = parsed_request(
      "GET / HTTP/1.1\r\nX-Forwarded-For: forged\r\nConnection: x-forwarded-for\r\n\r\n");
  std::string out;
  write_request_head(req, "10.0.0.9", std::nullopt, false, out);
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n\r\n");
}

TEST(Http1, RequestWriterSaysContentLengthWhenItMatters) {
  const auto written = [](const char* method, std::optional<std::uint64_t> length) {
    const std::string text = std::string(method) + " / HTTP/1.1\r\n\r\n";  // outlives the views
    std::string out;
    write_request_head(parsed_request(text), "ip", length, false, out);
    return out.find("Content-Length") == std::string::npos
               ? std::string("none")
               : out.substr(out.find("Content-Length"),
                            out.size() - 4 - out.find("Content-Length"));
  };
  EXPECT_EQ(written("GET", std::nullopt), "none");
  EXPECT_EQ(written("GET", 0), "none");
  EXPECT_EQ(written("GET", 3), "Content-Length: 3");
  EXPECT_EQ(written("POST", 0), "Content-Length: 0");
  EXPECT_EQ(written("PUT", 0), "Content-Length: 0");
  EXPECT_EQ(written("PATCH", 18446744073709551615u), "Content-Length: 18446744073709551615");
  EXPECT_EQ(written("POST", std::nullopt), "none");
}

TEST(Http1, RequestWriterKeepsUpgrade) {
  const RequestHead req = parsed_request(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, X-Hop\r\nUpgrade: websocket\r\n"
      "X-Hop: 1\r\nSec-WebSocket-Key: k\r\n\r\n");
  ASSERT_TRUE(req.upgrade);
  std::string out;
  write_request_head(req, "ip", std::nullopt, req.upgrade, out);
  EXPECT_EQ(out,
            "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n"
            "X-Forwarded-For: ip\r\nX-Forwarded-Proto: http\r\nConnection: upgrade\r\n\r\n");
}

TEST(Http1, WritersAppendWithoutReallocating) {
  const RequestHead req = parsed_request(
      "GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\nAccept: */*\r\nAccept-Encoding: gzip\r\n"
      "Accept-Language: en\r\nCookie: c=1\r\nReferer: /r\r\nConnection: keep-alive\r\n\r\n");
  std::string out = "previous|";
  out.reserve(1024);
  const char* data = out.data();
  write_request_head(req, "127.0.0.1", std::nullopt, false, out);
  write_response_head(parsed_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), true, out);
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out.rfind("previous|GET /a HTTP/1.1\r\n", 0), 0u);
}

TEST(Http1, ResponseWriterKeepsFramingAndDropsHopByHop) {
  const ResponseHead res = parsed_response(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, Transfer-Encoding, X-Internal\r\n"
      "Transfer-Encoding: chunked\r\nX-Internal: 1\r\nKeep-Alive: timeout=5\r\n"
      "Upgrade: h2\r\nServer: s\r\n\r\n");
  std::string out;
  write_response_head(res, false, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer: s\r\n"
            "Connection: close\r\n\r\n");
  out.clear();
  write_response_head(parsed_response("HTTP/1.1 204 \r\nContent-Length: 0\r\n\r\n"), true, out);
  EXPECT_EQ(out, "HTTP/1.1 204 \r\nContent-Length: 0\r\n\r\n");
  out.clear();
  write_response_head(parsed_response("HTTP/1.1 304 Not Modified\r\n\r\n"), true, out, 0);
  EXPECT_EQ(out, "HTTP/1.1 304 Not Modified\r\nConnection: keep-alive\r\n\r\n");
}

TEST(Http1, ResponseWriterKeepsUpgradeOnSwitchingProtocols) {
  const ResponseHead res = parsed_response(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Hop\r\n"
      "X-Hop: 1\r\nSec-WebSocket-Accept: a\r\n\r\n");
  std::string out;
  write_response_head(res, false, out);
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Accept: a\r\nConnection: upgrade\r\n\r\n");
}

TEST(Http1, WrittenRequestParsesBackWithoutHopByHop) {
  const RequestHead req = parsed_request(kBusyRequest);
  std::string out;
  write_request_head(req, "10.0.0.9", 4, false, out);
  const RequestHead back = parsed_request(out);
  EXPECT_EQ(back.method, req.method);
  EXPECT_EQ(back.target, req.target);
  EXPECT_EQ(back.head_size, out.size());
  EXPECT_EQ(back.content_length, 4u);
  EXPECT_TRUE(back.keep_alive);
  std::vector<std::pair<std::string, std::string>> want, got;
  for (const Header& h : req.fields()) {
    const std::string name(h.name);
    if (name == "Host" || name == "Accept") want.emplace_back(name, h.value);
  }
  want.emplace_back("X-Forwarded-For", "1.1.1.1, 2.2.2.2, 10.0.0.9");
  want.emplace_back("X-Forwarded-Proto", "http");
  want.emplace_back("Content-Length", "4");
  for (const Header& h : back.fields()) got.emplace_back(h.name, h.value);
  EXPECT_EQ(got, want);
}

TEST(Http1, WrittenResponseParsesBack) {
  const ResponseHead res = parsed_response(
      "HTTP/1.1 503 Busy Now\r\nContent-Length: 3\r\nConnection: close\r\nRetry-After: 1\r\n\r\n");
  std::string out;
  write_response_head(res, true, out);
  const ResponseHead back = parsed_response(out);
  EXPECT_EQ(back.status, 503);
  EXPECT_EQ(back.reason, "Busy Now");
  EXPECT_EQ(back.content_length, 3u);
  EXPECT_TRUE(back.keep_alive);
  EXPECT_EQ(value_of(back, "retry-after"), "1");
}

}  // namespace
}  // namespace failover::net::http1
