#include <gtest/gtest.h>

#include "lb/forward.h"
#include "lb/model.h"

namespace failover::lb {
namespace {

TEST(Forward, StripsHopByHopAndFieldsNamedInConnection) {
  http::request<http::string_body> req{http::verb::get, "/", 11};
  req.set(http::field::connection, "keep-alive, X-Secret");
  req.set("X-Secret", "1");
  req.set(http::field::keep_alive, "timeout=5");
  req.set(http::field::te, "trailers");
  req.set(http::field::proxy_authorization, "Basic x");
  req.set("X-Kept", "yes");
  prepare_upstream_request(req, "10.0.0.9", false);
  EXPECT_EQ(req.find("X-Secret"), req.end());
  EXPECT_EQ(req.find(http::field::connection), req.end());
  EXPECT_EQ(req.find(http::field::keep_alive), req.end());
  EXPECT_EQ(req.find(http::field::te), req.end());
  EXPECT_EQ(req.find(http::field::proxy_authorization), req.end());
  EXPECT_EQ(req["X-Kept"], "yes");
  EXPECT_EQ(req["X-Forwarded-For"], "10.0.0.9");
  EXPECT_EQ(req["X-Forwarded-Proto"], "http");
}

TEST(Forward, AppendsToAnExistingForwardedFor) {
  http::request<http::string_body> req{http::verb::get, "/", 10};
  req.set("X-Forwarded-For", "1.2.3.4");
  req.set("X-Forwarded-Proto", "https");
  prepare_upstream_request(req, "10.0.0.9", false);
  EXPECT_EQ(req["X-Forwarded-For"], "1.2.3.4, 10.0.0.9");
  EXPECT_EQ(req["X-Forwarded-Proto"], "http");
  EXPECT_EQ(req.version(), 11) << "always HTTP/1.1 with keep-alive to the server";
}

TEST(Forward, KeepsUpgradeFieldsForWebSocket) {
  http::request<http::string_body> req{http::verb::get, "/ws", 11};
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  ASSERT_TRUE(is_upgrade(req));
  prepare_upstream_request(req, "10.0.0.9", true);
  EXPECT_EQ(req[http::field::upgrade], "websocket");
  EXPECT_EQ(req[http::field::connection], "upgrade");
}

TEST(Forward, RefusesTransferEncodingOtherThanChunked) {
  http::request<http::string_body> req{http::verb::post, "/", 11};
  req.set(http::field::transfer_encoding, "gzip");
  EXPECT_NE(request_framing_error(req, false), nullptr);
  EXPECT_EQ(request_framing_error(req, true), nullptr);
}

TEST(Forward, ResponseSaysCloseWhenTheClientConnectionCloses) {
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::connection, "keep-alive, X-Hop");
  res.set("X-Hop", "1");
  res.set(http::field::transfer_encoding, "chunked");
  prepare_client_response(res, false);
  EXPECT_EQ(res[http::field::connection], "close");
  EXPECT_EQ(res.find("X-Hop"), res.end());
  EXPECT_EQ(res[http::field::transfer_encoding], "chunked") << "framing stays for the serializer";
}

TEST(Route, LongestPrefixAndExactHostWin) {
  Snapshot snap;
  for (const char* name : {"a", "b", "c"}) {
    UpstreamView u;
    u.name = name;
    snap.upstreams.push_back(u);
  }
  snap.routes = {{"*", "/", "a", 1}, {"*", "/api/", "b", 2}, {"example.com", "/", "c", 3}};
  EXPECT_EQ(snap.route("other.org", "/x")->name, "a");
  EXPECT_EQ(snap.route("other.org:8080", "/api/v1")->name, "b");
  EXPECT_EQ(snap.route("example.com:80", "/api/v1")->name, "c");
  snap.routes = {{"*", "/only/", "a", 1}};
  EXPECT_EQ(snap.route("x", "/other"), nullptr);
  snap.routes.clear();
  EXPECT_EQ(snap.route("x", "/other")->name, "a") << "no routes: the first upstream serves all";
}

}  // namespace
}  // namespace failover::lb
