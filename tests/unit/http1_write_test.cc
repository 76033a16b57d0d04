#include "net/http1.h"

#include <gtest/gtest.h>

#include <string>

namespace failover::net::http1 {
namespace {

constexpr std::size_t kMax = 8 * 1024;

std::string value_of(const MessageHead& h, std::string_view name) {
  const Header* f = find_header(h, name);
  return f ? std::string(f->value) : "<none>";
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
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: forged\r\nConnection: x-forwarded-for\r\n\r\n");
  std::string out;
  write_request_head(req, "10.0.0.9", std::nullopt, false, out);
  EXPECT_EQ(out,
            "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
}

TEST(Http1, RequestWriterNeverLetsConnectionDropEndToEndFraming) {
  const std::string text =
      "POST /p HTTP/1.1\r\nHost: h\r\nConnection: Host, content-length, Transfer-Encoding, X\r\n"
      "X: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string out;
  write_request_head(parsed_request(text), "ip", 5, false, out);
  EXPECT_EQ(out,
            "POST /p HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: ip\r\nX-Forwarded-Proto: http\r\n"
            "Content-Length: 5\r\n\r\n");
  const ResponseHead res = parsed_response(
      "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\n");
  out.clear();
  write_response_head(res, true, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
}

TEST(Http1, RequestWriterGivesHttp10RequestsAnEmptyHost) {
  const std::string text = "GET /a HTTP/1.0\r\nAccept: x\r\n\r\n";
  std::string out;
  write_request_head(parsed_request(text), "ip", std::nullopt, false, out);
  EXPECT_EQ(out,
            "GET /a HTTP/1.1\r\nAccept: x\r\nHost: \r\nX-Forwarded-For: ip\r\n"
            "X-Forwarded-Proto: http\r\n\r\n");
  RequestHead back;
  Error e;
  EXPECT_EQ(parse_request(out, kMax, back, e), Parse::kDone) << error_message(e);
}

TEST(Http1, ResponseWriterPassesInterimResponsesWithoutFraming) {
  const ResponseHead res = parsed_response(
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nContent-Length: 9\r\n"
      "Connection: close\r\n\r\n");
  std::string out;
  write_response_head(res, false, out);
  EXPECT_EQ(out, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
}

TEST(Http1, RequestWriterSaysContentLengthWhenItMatters) {
  const auto written = [](const char* method, std::optional<std::uint64_t> length) {
    const std::string text = std::string(method) + " / HTTP/1.1\r\nHost: h\r\n\r\n";  // outlives the views
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

TEST(Http1, ResponseWriterLeavesChunkedFramingOutForHttp10Clients) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n";
  ResponseHead h;
  Error e;
  ASSERT_EQ(parse_response(text, kMax, h, e), Parse::kDone);
  std::string old_client, new_client;
  write_response_head(h, false, old_client, 0);
  write_response_head(h, true, new_client, 1);
  EXPECT_EQ(old_client, "HTTP/1.1 200 OK\r\nX-A: 1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(new_client, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n");
}

}  // namespace
}  // namespace failover::net::http1
