#include "core/clock.h"
#include "client/registry_client.h"

#include <gtest/gtest.h>

#include "async_test_util.h"
#include "support/fake_http_server.h"
#include "support/ports.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/http_server.h"
#include "support/manual_time.h"

namespace failover::client {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using test::FakeHttpServer;

net::HttpResponse answer(int status, std::string body) { return net::HttpResponse::json(status, std::move(body)); }

class RegistryClientTest : public ::testing::Test {
 protected:
  template <class T>
  T run(asio::awaitable<T> a) {
    return test::run_to_end(io_, std::move(a));
  }

  // A registry URL where every connection is refused, for this test's length.
  std::string dead_url() { return "http://" + dead_.emplace_back(io_).host_port(); }

  asio::io_context io_;
  FakeHttpServer registry_{io_};  // a registry stand-in: 200 {} unless a test sets a reply
  std::deque<test::RefusingPort> dead_;
};

TEST_F(RegistryClientTest, RegisterSendsTheSpecAsJsonWithTheToken) {
  registry_.reply([](const net::HttpRequest&) { return answer(201, R"({"index":7})"); });
  RegistryClient client(io_.get_executor(), {registry_.url()}, "secret");
  InstanceSpec spec;
  spec.address = "127.0.0.1";
  spec.port = 18081;
  spec.ttl = 1000ms;
  spec.meta = R"({"zone":"a"})";
  auto r = run(client.register_instance("web", "web-1", spec));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->created);
  EXPECT_EQ(r->index, 7u);
  ASSERT_EQ(registry_.seen().size(), 1u);
  const auto& req = registry_.seen()[0];
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.target, "/v1/services/web/instances/web-1");
  EXPECT_EQ(req.header("Authorization"), "Bearer secret");
  EXPECT_EQ(req.header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(req.body), json::parse(R"({"address":"127.0.0.1","port":18081,"ttl_ms":1000,"meta":{"zone":"a"}})"));
}

TEST_F(RegistryClientTest, WritesWithoutTokenCarryNoAuthorization) {
  RegistryClient client(io_.get_executor(), {registry_.url()});
  ASSERT_TRUE(run(client.heartbeat("web", "web-1")).ok());
  ASSERT_EQ(registry_.seen().size(), 1u);
  EXPECT_EQ(registry_.seen()[0].header("Authorization"), "");
}

TEST_F(RegistryClientTest, HeartbeatOfAnUnknownInstanceIsNotFound) {
  registry_.reply([](const net::HttpRequest&) {
    return net::HttpResponse::error(404, "unknown instance web/web-1");
  });
  RegistryClient client(io_.get_executor(), {registry_.url()}, "secret");
  auto r = run(client.heartbeat("web", "web-1"));
  EXPECT_EQ(r.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("unknown instance web/web-1"), std::string::npos) << r.error().message;
  ASSERT_EQ(registry_.seen().size(), 1u);
  EXPECT_EQ(registry_.seen()[0].method, "PUT");
  EXPECT_EQ(registry_.seen()[0].target, "/v1/services/web/instances/web-1/heartbeat");
  EXPECT_EQ(registry_.seen()[0].body, "");
  EXPECT_EQ(registry_.seen()[0].header("Authorization"), "Bearer secret");
}

TEST_F(RegistryClientTest, HeartbeatManyReportsTheUnknownOnes) {
  registry_.reply([](const net::HttpRequest&) {
    return answer(200, R"({"renewed":1,"unknown":[{"service":"web","id":"web-2"}]})");
  });
  RegistryClient client(io_.get_executor(), {registry_.url()}, "secret");
  auto r = run(client.heartbeat_many({{"web", "web-1"}, {"web", "web-2"}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->renewed, 1);
  EXPECT_EQ(r->unknown, (std::vector<InstanceKey>{{"web", "web-2"}}));
  ASSERT_EQ(registry_.seen().size(), 1u);
  EXPECT_EQ(registry_.seen()[0].method, "POST");
  EXPECT_EQ(registry_.seen()[0].target, "/v1/heartbeats");
  EXPECT_EQ(registry_.seen()[0].header("Authorization"), "Bearer secret");
  EXPECT_EQ(json::parse(registry_.seen()[0].body),
            json::parse(R"({"instances":[{"service":"web","id":"web-1"},{"service":"web","id":"web-2"}]})"));
}

TEST_F(RegistryClientTest, DeregisterSendsDelete) {
  RegistryClient client(io_.get_executor(), {registry_.url()}, "secret");
  ASSERT_TRUE(run(client.deregister("web", "web-1")).ok());
  ASSERT_EQ(registry_.seen().size(), 1u);
  EXPECT_EQ(registry_.seen()[0].method, "DELETE");
  EXPECT_EQ(registry_.seen()[0].target, "/v1/services/web/instances/web-1");
  EXPECT_EQ(registry_.seen()[0].header("Authorization"), "Bearer secret");
}

TEST_F(RegistryClientTest, GetParsesTheServiceAndSendsNoToken) {
  registry_.reply([](const net::HttpRequest&) {
    return answer(200, R"({"index":12,"protected":true,"healthy_ratio":0.5,"instances":[
        {"id":"web-1","address":"127.0.0.1","port":18081,"meta":{"zone":"a"},"healthy":true},
        {"id":"web-2","address":"127.0.0.2","port":18082,"meta":{},"healthy":false}]})");
  });
  RegistryClient client(io_.get_executor(), {registry_.url()}, "secret");
  auto r = run(client.get("web"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->index, 12u);
  EXPECT_TRUE(r->protected_mode);
  EXPECT_DOUBLE_EQ(r->healthy_ratio, 0.5);
  ASSERT_EQ(r->instances.size(), 2u);
  EXPECT_EQ(r->instances[0].id, "web-1");
  EXPECT_EQ(r->instances[0].address, "127.0.0.1");
  EXPECT_EQ(r->instances[0].port, 18081);
  EXPECT_EQ(json::parse(r->instances[0].meta), json::parse(R"({"zone":"a"})"));
  EXPECT_TRUE(r->instances[0].healthy);
  EXPECT_FALSE(r->instances[1].healthy);
  ASSERT_EQ(registry_.seen().size(), 1u);
  EXPECT_EQ(registry_.seen()[0].method, "GET");
  EXPECT_EQ(registry_.seen()[0].target, "/v1/services/web");
  EXPECT_EQ(registry_.seen()[0].header("Authorization"), "");
}

TEST_F(RegistryClientTest, UnknownServiceIsAnEmptyNotFound) {
  registry_.reply([](const net::HttpRequest&) { return net::HttpResponse::error(404, "unknown service"); });
  core::ManualClock clock;
  RegistryClientOptions options;
  options.unknown_service_delay = 100ms;
  options.clock = &clock;
  RegistryClient client(io_.get_executor(), {registry_.url()}, "", options);
  auto r = run(client.get("web"));
  EXPECT_EQ(r.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(state_of(r).index, 0u);
  EXPECT_TRUE(state_of(r).instances.empty());

  // A watch does not spin on it: it waits unknown_service_delay on the
  // clock before returning.
  std::optional<ServiceResult> watched;
  asio::co_spawn(io_, client.watch("web", 0, 30s), [&](std::exception_ptr e, ServiceResult w) {
    EXPECT_FALSE(e);
    watched = std::move(w);
  });
  // Its one sleeper is then the 100ms wait (the call's own deadline, seconds
  // away on the same clock, has ended with the call).
  ASSERT_TRUE(test::run_until(io_, [&] {
    return registry_.seen().size() == 2 && clock.sleepers() == 1 && clock.next_wake() == clock.now() + 100ms;
  }));
  test::run_for(io_, clock, 99ms);
  EXPECT_FALSE(watched.has_value());
  test::run_for(io_, clock, 1ms);
  ASSERT_TRUE(watched.has_value());
  EXPECT_EQ(watched->error().code, core::ErrorCode::kNotFound);
}

TEST_F(RegistryClientTest, WatchPassesIndexAndWaitAndParsesTheReply) {
  registry_.reply([](const net::HttpRequest&) {
    return answer(200, R"({"index":43,"instances":[{"id":"a","address":"10.0.0.1","port":80}]})");
  });
  RegistryClient client(io_.get_executor(), {registry_.url() + "/reg/"});
  auto r = run(client.watch("web", 42, 1500ms));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->index, 43u);
  ASSERT_EQ(r->instances.size(), 1u);
  EXPECT_EQ(r->instances[0].meta, "{}");
  EXPECT_TRUE(r->instances[0].healthy);
  ASSERT_EQ(registry_.seen().size(), 1u);
  EXPECT_EQ(registry_.seen()[0].target, "/reg/v1/services/web?index=42&wait=1500ms");
}

// Starts `call` and returns where its result will be, for a test that moves
// a ManualClock while the call runs.
std::shared_ptr<std::optional<ServiceResult>> start(asio::io_context& io, asio::awaitable<ServiceResult> call) {
  auto out = std::make_shared<std::optional<ServiceResult>>();
  asio::co_spawn(io, std::move(call), [out](std::exception_ptr e, ServiceResult r) {
    EXPECT_FALSE(e) << "the call threw";
    *out = std::move(r);
  });
  return out;
}

TEST_F(RegistryClientTest, WatchTimeoutIsWaitPlusMargin) {
  registry_.delay(1h);  // holds every query, as a blocking query would (longer than any test)
  core::ManualClock clock;
  RegistryClientOptions options;
  options.request_timeout = 100ms;
  options.watch_margin = 300ms;
  options.clock = &clock;
  RegistryClient client(io_.get_executor(), {registry_.url()}, "", options);
  auto watched = start(io_, client.watch("web", 5, 250ms));
  ASSERT_TRUE(test::run_until(io_, [&] { return registry_.seen().size() == 1; }));
  test::run_for(io_, clock, 549ms);
  EXPECT_FALSE(watched->has_value()) << "gave up before wait + margin";
  test::run_for(io_, clock, 1ms);
  ASSERT_TRUE(watched->has_value());
  EXPECT_EQ((*watched)->error().code, core::ErrorCode::kTimeout) << (*watched)->error().message;

  // A plain get uses request_timeout.
  auto got = start(io_, client.get("web"));
  ASSERT_TRUE(test::run_until(io_, [&] { return registry_.seen().size() == 2; }));
  test::run_for(io_, clock, 99ms);
  EXPECT_FALSE(got->has_value()) << "gave up before request_timeout";
  test::run_for(io_, clock, 1ms);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->error().code, core::ErrorCode::kTimeout) << (*got)->error().message;
}

TEST_F(RegistryClientTest, AnswerBeforeTheDeadlineLeavesNoSleeperBehind) {
  registry_.reply([](const net::HttpRequest&) { return answer(200, R"({"index":5,"instances":[]})"); });
  core::ManualClock clock;
  RegistryClientOptions options;
  options.request_timeout = 100ms;
  options.clock = &clock;
  RegistryClient client(io_.get_executor(), {registry_.url()}, "", options);
  auto r = run(client.watch("web", 5, 250ms));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->index, 5u);
  EXPECT_EQ(clock.sleepers(), 0u);
}

TEST_F(RegistryClientTest, FailsOverFromADeadUrlAndStaysOnTheLiveOne) {
  const std::string dead = dead_url();
  RegistryClient client(io_.get_executor(), {dead, registry_.url()});
  EXPECT_EQ(client.current(), dead);
  auto r = run(client.heartbeat("web", "web-1"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(client.current(), registry_.url());
  ASSERT_TRUE(run(client.heartbeat("web", "web-1")).ok());
  EXPECT_EQ(client.current(), registry_.url());
  EXPECT_EQ(registry_.seen().size(), 2u);
}

TEST_F(RegistryClientTest, FailsOverOnA5xx) {
  FakeHttpServer broken(io_);
  broken.reply([](const net::HttpRequest&) { return net::HttpResponse::error(503, "starting"); });
  RegistryClient client(io_.get_executor(), {broken.url(), registry_.url()});
  auto r = run(client.deregister("web", "web-1"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(client.current(), registry_.url());
  EXPECT_EQ(broken.seen().size(), 1u);
  EXPECT_EQ(registry_.seen().size(), 1u);
}

TEST_F(RegistryClientTest, AFourHundredDoesNotMove) {
  FakeHttpServer other(io_);
  registry_.reply([](const net::HttpRequest&) { return net::HttpResponse::error(401, "bad token"); });
  RegistryClient client(io_.get_executor(), {registry_.url(), other.url()}, "wrong");
  auto r = run(client.heartbeat("web", "web-1"));
  EXPECT_EQ(r.error().code, core::ErrorCode::kUnauthorized);
  EXPECT_NE(r.error().message.find("bad token"), std::string::npos) << r.error().message;
  EXPECT_EQ(client.current(), registry_.url());
  EXPECT_TRUE(other.seen().empty());
}

TEST_F(RegistryClientTest, EveryUrlDownIsUnavailable) {
  const std::string a = dead_url(), b = dead_url();
  RegistryClient client(io_.get_executor(), {a, b});
  auto r = run(client.heartbeat("web", "web-1"));
  EXPECT_EQ(r.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find(a), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(b), std::string::npos) << r.error().message;
}

TEST_F(RegistryClientTest, MalformedReplyIsABadReply) {
  registry_.reply([](const net::HttpRequest&) { return answer(200, R"({"index":"x"})"); });
  RegistryClient client(io_.get_executor(), {registry_.url()});
  EXPECT_EQ(run(client.get("web")).error().code, core::ErrorCode::kInvalid);
}

TEST_F(RegistryClientTest, BadNamesAndMetaAreRefusedBeforeSending) {
  RegistryClient client(io_.get_executor(), {registry_.url()});
  EXPECT_EQ(run(client.heartbeat("web", "a/b")).error().code, core::ErrorCode::kInvalid);
  EXPECT_EQ(run(client.deregister("", "x")).error().code, core::ErrorCode::kInvalid);
  EXPECT_EQ(run(client.get("we b")).error().code, core::ErrorCode::kInvalid);
  InstanceSpec spec;
  spec.address = "h";
  spec.port = 1;
  spec.meta = "[1]";
  EXPECT_EQ(run(client.register_instance("web", "w1", spec)).error().code, core::ErrorCode::kInvalid);
  EXPECT_TRUE(registry_.seen().empty());
}

TEST_F(RegistryClientTest, RefusesBadUrlsAtConstruction) {
  EXPECT_THROW(RegistryClient(io_.get_executor(), {}), std::invalid_argument);
  EXPECT_THROW(RegistryClient(io_.get_executor(), {"https://127.0.0.1:8500"}), std::invalid_argument);
  EXPECT_THROW(RegistryClient(io_.get_executor(), {registry_.url(), "127.0.0.1:8500"}), std::invalid_argument);
}

}  // namespace
}  // namespace failover::client
