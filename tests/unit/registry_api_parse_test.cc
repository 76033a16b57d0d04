// The registry API's request parsing: paths, ids, bodies and query strings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "registry/api_parse.h"

namespace failover::registry {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;

TEST(RegistryApiParse, Routes) {
  using Kind = Route::Kind;
  EXPECT_EQ(parse_route("/v1/services")->kind, Kind::kServices);
  EXPECT_EQ(parse_route("/v1/heartbeats")->kind, Kind::kHeartbeats);
  auto s = parse_route("/v1/services/web");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, Kind::kService);
  EXPECT_EQ(s->service, "web");
  auto i = parse_route("/v1/services/web/instances/web-1");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->kind, Kind::kInstance);
  EXPECT_EQ(i->id, "web-1");
  auto h = parse_route("/v1/services/web/instances/web-1/heartbeat");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->kind, Kind::kHeartbeat);
  auto encoded = parse_route("/v1/services/web/instances/a%3Ab");
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->id, "a:b");
}

TEST(RegistryApiParse, UnknownPathsAreNotErrors) {
  for (const char* p : {"/", "/v1", "/v2/services", "/v1/services/web/other", "/v1/servicesx"}) {
    auto r = parse_route(p);
    EXPECT_FALSE(r) << p;
    EXPECT_TRUE(r.is(core::ErrorCode::kNotFound)) << p;
  }
}

TEST(RegistryApiParse, RefusesBadIdsAndNames) {
  const std::pair<const char*, const char*> cases[] = {
      {"/v1/services/web/instances/a/b", "must not contain '/'"},
      {"/v1/services/web/instances/a%2Fb", "must not contain '/'"},
      {"/v1/services/web/instances/a%00b", "control characters"},
      {"/v1/services/web/instances/a%0Ab", "control characters"},
      {"/v1/services/web/instances/a%zz", "percent-encoding"},
      {"/v1/services/web/instances/a%4", "percent-encoding"},
      {"/v1/services/web/instances/", "1 to 128"},
      {"/v1/services/we%20b", "service name"},
      {"/v1/services/", "service name"},
  };
  for (auto [path, message] : cases) {
    auto r = parse_route(path);
    EXPECT_FALSE(r) << path;
    EXPECT_THAT(r.error().message, HasSubstr(message)) << path;
  }
  EXPECT_THAT(instance_id_problem(std::string(129, 'a')), HasSubstr("1 to 128"));
}

TEST(RegistryApiParse, Instance) {
  InstanceLimits limits;
  auto spec = parse_instance(R"({"address":"127.0.0.1","port":18081,"ttl_ms":1000,"meta":{"zone":"a"}})", limits);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->address, "127.0.0.1");
  EXPECT_EQ(spec->port, 18081);
  EXPECT_EQ(spec->ttl, milliseconds(1000));
  EXPECT_EQ(spec->meta, R"({"zone":"a"})");
  auto defaults = parse_instance(R"({"address":"h","port":1})", limits);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->ttl, limits.default_ttl);
  EXPECT_EQ(defaults->meta, "{}");
}

TEST(RegistryApiParse, RefusesBadInstances) {
  InstanceLimits limits;
  const std::pair<const char*, const char*> cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"port":1})", "\"address\""},
      {R"({"address":"","port":1})", "\"address\""},
      {R"({"address":"a b","port":1})", "\"address\""},
      {R"({"address":"h"})", "\"port\""},
      {R"({"address":"h","port":"80"})", "\"port\""},
      {R"({"address":"h","port":70000})", "\"port\""},
      {R"({"address":"h","port":1.5})", "\"port\""},
      {R"({"address":"h","port":1,"ttl_ms":-5})", "\"ttl_ms\""},
      {R"({"address":"h","port":1,"ttl_ms":99999999999999})", "\"ttl_ms\""},
      {R"({"address":"h","port":1,"ttl_ms":50})", "\"ttl_ms\""},
      {R"({"address":"h","port":1,"meta":[]})", "\"meta\""},
      {R"({"address":"h","port":1,"meta":{"a":1}})", "\"meta\" values"},
      {R"({"address":"h","port":1,"color":"red"})", "unknown field \"color\""},
  };
  for (auto [body, message] : cases) {
    auto r = parse_instance(body, limits);
    EXPECT_FALSE(r) << body;
    EXPECT_THAT(r.error().message, HasSubstr(message)) << body;
  }
}

TEST(RegistryApiParse, Heartbeats) {
  auto keys = parse_heartbeats(R"({"instances":[{"service":"web","id":"w1"},{"service":"api","id":"a1"}]})", 10);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[1].service, "api");
  EXPECT_THAT(parse_heartbeats(R"({"instances":[{"service":"web","id":"a/b"}]})", 10).error().message, HasSubstr("\"id\""));
  EXPECT_THAT(parse_heartbeats(R"({"instances":[1]})", 10).error().message, HasSubstr("must be an object"));
  EXPECT_THAT(parse_heartbeats(R"({"instances":[{},{},{}]})", 2).error().message, HasSubstr("more than 2"));
}

TEST(RegistryApiParse, ChangesRoundTrip) {
  Change put;
  put.service = "web";
  put.id = "w1";
  put.spec = {"10.0.0.1", 80, milliseconds(2000), R"({"zone":"b"})"};
  put.lease_left = milliseconds(-300);  // expired there: unhealthy
  Change remove;
  remove.kind = Change::Kind::kRemove;
  remove.service = "web";
  remove.id = "w2";
  auto back = parse_changes(changes_json({put, remove}), InstanceLimits{});
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  const Change& p = (*back)[0];
  EXPECT_EQ(p.kind, Change::Kind::kPut);
  EXPECT_EQ(p.spec, put.spec);
  EXPECT_EQ(p.lease_left, milliseconds(-300));
  EXPECT_EQ((*back)[1].kind, Change::Kind::kRemove);
  EXPECT_EQ((*back)[1].id, "w2");
  EXPECT_FALSE(parse_changes(R"({"changes":[{"op":"zap","service":"a","id":"b"}]})", InstanceLimits{}));
}

TEST(RegistryApiParse, ServiceQuery) {
  const milliseconds max{300'000};
  auto q = parse_service_query("index=12&wait=500ms&all=1", max);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->index, 12u);
  EXPECT_EQ(q->wait, milliseconds(500));
  EXPECT_TRUE(q->all);
  EXPECT_EQ(parse_service_query("wait=1h", max)->wait, max);  // capped
  EXPECT_FALSE(parse_service_query("", max)->index);
  EXPECT_THAT(parse_service_query("index=-1", max).error().message, HasSubstr("index"));
  EXPECT_THAT(parse_service_query("index=1x", max).error().message, HasSubstr("index"));
  EXPECT_THAT(parse_service_query("wait=soon", max).error().message, HasSubstr("wait"));
  EXPECT_THAT(parse_service_query("colour=red", max).error().message, HasSubstr("unknown query parameter"));
}

TEST(RegistryApiParse, ServiceJsonShape) {
  Instance a;
  a.id = "w1";
  a.spec = {"127.0.0.1", 18081, milliseconds(1000), R"({"zone":"a"})"};
  a.healthy = false;
  ServiceView view;
  view.index = 7;
  view.protected_mode = true;
  view.healthy_ratio = 0.5;
  view.instances = {&a};
  EXPECT_EQ(service_json(view),
            R"({"index":7,"protected":true,"healthy_ratio":0.5,"instances":[{"id":"w1","address":"127.0.0.1","port":18081,"meta":{"zone":"a"},"healthy":false}]})"
            "\n");
}

}  // namespace
}  // namespace failover::registry
