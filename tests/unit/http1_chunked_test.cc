#include "net/http1.h"

#include <gtest/gtest.h>

#include <string>

namespace failover::net::http1 {
namespace {

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

TEST(Http1, ScannerRefusesDeclaredSizeOverLimitAtOnce) {
  ChunkedScanner s(1000);
  Error e;
  // 600 bytes of data pass; the next size line declares 500 more: refused
  // as soon as its line ends, before any of its data has come.
  const std::string first = "258\r\n" + std::string(600, 'a') + "\r\n";
  EXPECT_EQ(s.scan(first, e), first.size());
  EXPECT_EQ(e, Error::kNone);
  EXPECT_EQ(s.scan("1f4\r\n", e), 5u);
  EXPECT_EQ(e, Error::kBodyTooLarge);
  EXPECT_EQ(s.scan("aaaa", e), 0u);
  EXPECT_EQ(e, Error::kBodyTooLarge);
  ChunkedScanner huge(1 << 20);
  EXPECT_EQ(huge.scan("40000000\r\n", e), 10u);  // 1 GiB declared in one line
  EXPECT_EQ(e, Error::kBodyTooLarge);
  ChunkedScanner exact(600);
  EXPECT_EQ(exact.scan(first + "0\r\n\r\n", e), first.size() + 5);
  EXPECT_TRUE(exact.done());
}

}  // namespace
}  // namespace failover::net::http1
