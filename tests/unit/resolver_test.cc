#include "core/clock.h"
#include "client/resolver.h"
#include "client/http_get.h"

#include <gtest/gtest.h>

#include "async_test_util.h"
#include "support/fake_http_server.h"
#include "support/ports.h"
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "net/hmac.h"
#include "net/http_server.h"
#include "support/manual_time.h"

namespace failover::client {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Ips = std::vector<std::string>;

using test::FakeHttpServer;

class ResolverTest : public ::testing::Test {
 protected:
  template <class T>
  T run(asio::awaitable<T> a) {
    return test::run_to_end(io_, std::move(a));
  }
  void run(asio::awaitable<void> a) { test::run_to_end(io_, std::move(a)); }

  ResolverOptions options(std::vector<std::string> servers) {
    ResolverOptions o;
    o.httpdns = std::move(servers);
    o.request_timeout = 500ms;
    o.connect_timeout = 500ms;
    o.system_timeout = 1s;
    o.seed = 1;
    o.clock = &clock_;
    return o;
  }

  std::string temp_file(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("resolver-coord-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    dirs_.push_back(dir);
    return (dir / name).string();
  }
  void TearDown() override {
    for (const auto& d : dirs_) std::filesystem::remove_all(d);
  }

  // A loopback port that refuses every connection for this test's length.
  unsigned short refusing_port() { return refusing_.emplace_back(io_).port(); }
  std::string dead_server() { return test::host_port(refusing_port()); }

  core::ManualClock clock_;
  asio::io_context io_;
  FakeHttpServer httpdns_{io_};
  std::vector<std::filesystem::path> dirs_;
  std::deque<test::RefusingPort> refusing_;

  ResolverTest() {
    httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.11","127.0.0.12"],"ttl":60}})");
  }
};

TEST_F(ResolverTest, FailsOverToTheNextServerAndRemembersIt) {
  const auto dead = dead_server();
  Resolver resolver(io_.get_executor(), options({dead, httpdns_.host_port()}));
  const auto r = run(resolver.resolve("WWW.example.com"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->host, "www.example.com");
  EXPECT_EQ(r->ips, (Ips{"127.0.0.11", "127.0.0.12"}));
  EXPECT_EQ(r->ttl, 60s);
  EXPECT_EQ(r->source, Source::kHttpdns);
  EXPECT_EQ(r->server, httpdns_.host_port());
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_NE(r->failures[0].find(dead), std::string::npos);
  EXPECT_EQ(resolver.current_server(), httpdns_.host_port());
  ASSERT_EQ(httpdns_.seen().size(), 1u);
  EXPECT_EQ(httpdns_.seen()[0].target, "/d?host=www.example.com");

  // Another name: the server that worked is asked first, the dead one not at all.
  httpdns_.answer(200, R"({"api.example.com":{"ips":["127.0.0.13"],"ttl":60}})");
  const auto other = run(resolver.resolve("api.example.com"));
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_TRUE(other->failures.empty());
}

TEST_F(ResolverTest, CachedAnswerAsksNoServerWithinItsTtl) {
  Resolver resolver(io_.get_executor(), options({httpdns_.host_port()}));
  ASSERT_TRUE(run(resolver.resolve("www.example.com")).ok());
  clock_.advance(59s);
  const auto r = run(resolver.resolve("www.example.com"));
  EXPECT_EQ(r->source, Source::kCache);
  EXPECT_FALSE(r->stale);
  EXPECT_EQ(r->ttl, 1s);
  EXPECT_EQ(httpdns_.seen().size(), 1u);
}

TEST_F(ResolverTest, StaleAnswerIsServedWhileOneBackgroundRefreshRuns) {
  Resolver resolver(io_.get_executor(), options({httpdns_.host_port()}));
  ASSERT_TRUE(run(resolver.resolve("www.example.com")).ok());
  httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.13"],"ttl":60}})");
  clock_.advance(61s);
  const auto stale = run(resolver.resolve("www.example.com"));
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->ips, (Ips{"127.0.0.11", "127.0.0.12"}));
  const auto again = run(resolver.resolve("www.example.com"));  // before the refresh ended
  EXPECT_TRUE(again->stale);
  run(resolver.settle(2s));
  EXPECT_EQ(httpdns_.seen().size(), 2u);  // one refresh for both
  const auto fresh = run(resolver.resolve("www.example.com"));
  EXPECT_FALSE(fresh->stale);
  EXPECT_EQ(fresh->source, Source::kCache);
  EXPECT_EQ(fresh->ips, Ips{"127.0.0.13"});
}

TEST_F(ResolverTest, SignsEveryRequestWhenASecretIsSet) {
  auto o = options({httpdns_.host_port()});
  o.secret = "s3cret";
  o.signature_ttl = 120s;
  Resolver resolver(io_.get_executor(), o);
  const auto before = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(run(resolver.resolve("www.example.com")).ok());
  ASSERT_EQ(httpdns_.seen().size(), 1u);
  const std::string q = httpdns_.seen()[0].query;
  const auto t_at = q.find("&t="), s_at = q.find("&s=");
  ASSERT_NE(t_at, std::string::npos) << q;
  ASSERT_NE(s_at, std::string::npos) << q;
  EXPECT_EQ(q.substr(0, t_at), "host=www.example.com");
  const std::string t = q.substr(t_at + 3, s_at - t_at - 3);
  EXPECT_GE(std::stoll(t), before + 120);
  EXPECT_LE(std::stoll(t), before + 122);
  EXPECT_EQ(q.substr(s_at + 3), net::hmac_sha256_hex("s3cret", "www.example.com" + t));
}

TEST_F(ResolverTest, EmptyAnswerCountsAsAFailedServer) {
  FakeHttpServer empty(io_);
  empty.answer(200, R"({"www.example.com":{"ips":[],"ttl":60}})");
  Resolver resolver(io_.get_executor(), options({empty.host_port(), httpdns_.host_port()}));
  const auto r = run(resolver.resolve("www.example.com"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->server, httpdns_.host_port());
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_NE(r->failures[0].find("empty"), std::string::npos) << r->failures[0];
  EXPECT_EQ(resolver.current_server(), httpdns_.host_port());
}

TEST_F(ResolverTest, FallsBackToTheSystemResolverOnlyWhenNoServerAnswers) {
  httpdns_.answer(200, R"({"localhost":{"ips":[],"ttl":60}})");
  Resolver resolver(io_.get_executor(), options({dead_server(), httpdns_.host_port()}));
  const auto r = run(resolver.resolve("localhost"));  // /etc/hosts
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->source, Source::kSystem);
  EXPECT_EQ(r->failures.size(), 2u);
  EXPECT_NE(std::find(r->ips.begin(), r->ips.end(), "127.0.0.1"), r->ips.end());
  // Never cached: the next lookup asks HTTPDNS again.
  EXPECT_TRUE(run(resolver.resolve("localhost")).ok());
  EXPECT_EQ(httpdns_.seen().size(), 2u);
}

TEST_F(ResolverTest, PersistedAnswerSurvivesARestartWithEveryServerDown) {
  const auto file = temp_file("cache.json");
  auto o = options({httpdns_.host_port()});
  o.cache_file = file;
  {
    Resolver first(io_.get_executor(), o);
    ASSERT_TRUE(run(first.resolve("www.example.com")).ok());
  }
  ASSERT_TRUE(std::filesystem::exists(file));
  o.httpdns = {dead_server()};
  Resolver second(io_.get_executor(), o);
  EXPECT_EQ(second.cache_file_error(), "");
  const auto r = run(second.resolve("www.example.com"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->source, Source::kPersisted);
  EXPECT_FALSE(r->stale);
  EXPECT_EQ(r->ips, (Ips{"127.0.0.11", "127.0.0.12"}));
}

TEST_F(ResolverTest, UnreadableCacheFileStartsCold) {
  const auto file = temp_file("bad.json");
  std::FILE* f = std::fopen(file.c_str(), "w");
  std::fputs("{half", f);
  std::fclose(f);
  auto o = options({httpdns_.host_port()});
  o.cache_file = file;
  Resolver resolver(io_.get_executor(), o);
  EXPECT_NE(resolver.cache_file_error(), "");
  EXPECT_EQ(run(resolver.resolve("www.example.com"))->source, Source::kHttpdns);
}

TEST_F(ResolverTest, ConnectTriesAnotherIpWhenOneRefuses) {
  tcp::acceptor live(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = live.local_endpoint().port();
  httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.2","127.0.0.1"],"ttl":60}})");
  int retried = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    auto o = options({httpdns_.host_port()});
    o.seed = seed;
    Resolver resolver(io_.get_executor(), o);
    auto c = run(resolver.connect("www.example.com", port));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->ip, "127.0.0.1");
    if (!c->failed.empty()) {
      ++retried;
      EXPECT_EQ(c->failed[0].ip, "127.0.0.2");
    }
  }
  EXPECT_GT(retried, 0);  // some seeds picked the dead IP first
}

TEST_F(ResolverTest, ConnectStopsAtMaxRetries) {
  const auto port = refusing_port();
  httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.2","127.0.0.3","127.0.0.4"],"ttl":60}})");
  auto o = options({httpdns_.host_port()});
  o.max_retries = 1;
  Resolver resolver(io_.get_executor(), o);
  bool resolved = false;
  std::vector<ConnectAttempt> failed;
  ConnectObserver watch;
  watch.resolved = [&](const Resolution&) { resolved = true; };
  watch.attempt_failed = [&](const ConnectAttempt& a) { failed.push_back(a); };
  auto c = run(resolver.connect("www.example.com", port, {}, watch));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.is(core::ErrorCode::kUnavailable)) << c.error().to_string();
  EXPECT_TRUE(resolved);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_NE(failed[0].ip, failed[1].ip);
  // What a caller already tried counts against the same budget.
  failed.clear();
  c = run(resolver.connect("www.example.com", port, {"127.0.0.2"}, watch));
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(failed.size(), 1u);
}

TEST_F(ResolverTest, CachedAnswerWhoseIpsAllFailIsRefreshed) {
  const auto port = refusing_port();
  httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.2"],"ttl":60}})");
  Resolver resolver(io_.get_executor(), options({httpdns_.host_port()}));
  ASSERT_TRUE(run(resolver.resolve("www.example.com")).ok());
  std::optional<Source> source;
  ConnectObserver watch;
  watch.resolved = [&](const Resolution& r) { source = r.source; };
  const auto c = run(resolver.connect("www.example.com", port, {}, watch));
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(source, Source::kCache);
  tcp::acceptor live(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.1"],"ttl":60}})");
  EXPECT_TRUE(run(resolver.resolve("www.example.com"))->stale);  // and a refresh started
  run(resolver.settle(2s));
  const auto again = run(resolver.connect("www.example.com", live.local_endpoint().port()));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->ip, "127.0.0.1");
}

// A server that accepts and closes before answering, beside a live one on
// the same port: http_get must go on to the live one (the GET was never
// acted on), and say which IP closed on it.
TEST_F(ResolverTest, HttpGetRetriesAnotherIpWhenTheConnectionClosesBeforeAnyByte) {
  const auto port = test::start_on_free_port([&](const tcp::endpoint& at) {
    net::serve_http(io_, at, [](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
      co_return net::HttpResponse::json(200, "hello " + req.target);
    });
  });
  tcp::acceptor closer(io_, tcp::endpoint(asio::ip::make_address("127.0.0.2"), port));
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    for (;;) {
      auto [ec, s] = co_await closer.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      s.close();  // not one byte of a response
    }
  }, asio::detached);
  httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.2","127.0.0.1"],"ttl":60}})");
  int closed_first = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    auto o = options({httpdns_.host_port()});
    o.seed = seed;
    Resolver resolver(io_.get_executor(), o);
    auto request = parse_get_url("http://www.example.com:" + std::to_string(port) + "/x?y=1#frag");
    ASSERT_TRUE(request) << request.error().message;
    std::string body;
    std::vector<std::string> failed;
    HttpGetObserver observer;
    observer.attempt_failed = [&](const std::string& where, const std::string&, bool connected) {
      EXPECT_TRUE(connected);
      failed.push_back(where);
    };
    observer.body = [&](std::string_view piece) { body.append(piece); };
    auto status = run(http_get(resolver, *request, observer));
    ASSERT_TRUE(status) << status.error().message;
    EXPECT_EQ(*status, 200);
    EXPECT_NE(body.find("hello /x?y=1"), std::string::npos) << body;
    if (!failed.empty()) {
      ++closed_first;
      EXPECT_EQ(failed[0], "127.0.0.2:" + std::to_string(port));
    }
  }
  EXPECT_GT(closed_first, 0);  // some seeds picked the closing IP first
  closer.close();
}

TEST_F(ResolverTest, HttpGetWithEveryIpRefusingIsUnavailable) {
  httpdns_.answer(200, R"({"www.example.com":{"ips":["127.0.0.1"],"ttl":60}})");
  Resolver resolver(io_.get_executor(), options({httpdns_.host_port()}));
  HttpGetRequest request;
  request.host = "www.example.com";
  request.port = refusing_port();
  request.authority = "www.example.com";
  request.target = "/";
  auto status = run(http_get(resolver, request));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, core::ErrorCode::kUnavailable);
}

TEST(HttpGetUrl, SplitsWhatIsSentFromWhereItGoes) {
  auto r = parse_get_url("http://www.example.com:8080/a/b?c=d#top");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->host, "www.example.com");
  EXPECT_EQ(r->port, 8080);
  EXPECT_EQ(r->authority, "www.example.com:8080");
  EXPECT_EQ(r->target, "/a/b?c=d");  // the fragment is not sent
  r = parse_get_url("http://h?x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->port, 80);
  EXPECT_EQ(r->target, "/?x");
  for (const char* bad : {"www.example.com/", "https://h/", "http://h/a b", "http://:80/"}) {
    auto b = parse_get_url(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().code, core::ErrorCode::kInvalid) << bad;
  }
}

TEST_F(ResolverTest, LiteralAddressNeedsNoLookup) {
  Resolver resolver(io_.get_executor(), options({httpdns_.host_port()}));
  const auto r = run(resolver.resolve("[::1]"));
  EXPECT_EQ(r->source, Source::kLiteral);
  EXPECT_EQ(r->ipsv6, Ips{"::1"});
  EXPECT_FALSE(run(resolver.resolve("bad host")).ok());
  EXPECT_TRUE(httpdns_.seen().empty());
}

// settle()'s limit is the resolver's clock's: with a lookup still held by
// its server, settle returns when the clock passes the limit, not before.
TEST_F(ResolverTest, SettleGivesUpWhenTheClockPassesItsLimit) {
  const auto port = test::start_on_free_port([this](const tcp::endpoint& at) {
    net::serve_http(io_, at, [this](net::HttpRequest) -> asio::awaitable<net::HttpResponse> {
      co_await clock_.sleep_for(1h);  // holds the lookup until the test moves time that far
      co_return net::HttpResponse::json(200, R"({"www.example.com":{"ips":["127.0.0.11"],"ttl":60}})");
    });
  });
  auto o = options({"127.0.0.1:" + std::to_string(port)});
  o.request_timeout = 60s;  // the HTTP deadline stays out of the way
  Resolver resolver(io_.get_executor(), o);
  bool resolved = false, settled = false;
  asio::co_spawn(io_, resolver.resolve("www.example.com"), [&](std::exception_ptr, core::Result<Resolution>) { resolved = true; });
  // The server holds it, and the lookup's HTTP deadline (60s) sleeps on the same clock.
  ASSERT_TRUE(test::run_until(io_, [&] { return clock_.sleepers() == 2; }));
  asio::co_spawn(io_, resolver.settle(1s), [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    settled = true;
  });
  test::run_for(io_, clock_, 999ms);
  EXPECT_FALSE(settled);
  test::run_for(io_, clock_, 1ms);
  EXPECT_TRUE(settled);
  EXPECT_FALSE(resolved);
}

TEST_F(ResolverTest, RefusesOptionsThatCannotWork) {
  EXPECT_THROW(Resolver(io_.get_executor(), options({})), std::invalid_argument);
  EXPECT_THROW(Resolver(io_.get_executor(), options({"nonsense"})), std::invalid_argument);
  auto o = options({httpdns_.host_port()});
  o.dns_servers = {"not-an-ip"};
  EXPECT_THROW(Resolver(io_.get_executor(), o), std::invalid_argument);
}

}  // namespace
}  // namespace failover::client
