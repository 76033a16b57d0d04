#include "registry/etcd_keys.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "etcd/codec.h"

namespace failover::registry::etcd_keys {
namespace {

using namespace std::chrono_literals;
using failover::etcd::prefix_range_end;
namespace json = boost::json;

json::value js(const std::string& text) { return json::parse(text); }

// ---------------------------------------------------------------- key layout

TEST(RegistryEtcdKeys, Layout) {
  EXPECT_EQ(services_prefix("/failover"), "/failover/services/");
  EXPECT_EQ(service_prefix("/failover", "web"), "/failover/services/web/");
  EXPECT_EQ(instance_key("/failover", "web", "web-1"), "/failover/services/web/instances/web-1");
  EXPECT_EQ(alive_key("/failover", "web", "web-1"), "/failover/services/web/alive/web-1");
  // Both kinds of a service sit under its prefix, so one range or watch covers them.
  const std::string p = service_prefix("/failover", "web");
  const std::string end = prefix_range_end(p);
  for (const std::string& k : {instance_key("/failover", "web", "x"), alive_key("/failover", "web", "x")}) {
    EXPECT_GE(k, p);
    EXPECT_LT(k, end);
  }
  EXPECT_GE(instance_key("/failover", "web2", "x"), end);  // not web's
}

TEST(RegistryEtcdKeys, SplitRoundTrips) {
  for (std::string prefix : {"", "/failover", "fo"}) {
    auto k = split_key(prefix, instance_key(prefix, "web", "web-1"));
    ASSERT_TRUE(k) << prefix;
    EXPECT_EQ(*k, (RegistryKey{"web", "web-1", KeyKind::kInstance}));
    k = split_key(prefix, alive_key(prefix, "api", "a.b:1"));
    ASSERT_TRUE(k) << prefix;
    EXPECT_EQ(*k, (RegistryKey{"api", "a.b:1", KeyKind::kAlive}));
  }
}

TEST(RegistryEtcdKeys, SplitRefusesOtherKeys) {
  for (const char* key : {
           "/failover/services/web/instances/", "/failover/services/web/instances",
           "/failover/services//instances/x", "/failover/services/web/other/x",
           "/failover/services/web/instances/a/b", "/other/services/web/instances/x",
           "/failover/services/", "/failover/services/web", "/failoverX/services/web/alive/x",
           "", "/failover/services/web/alive/x/"}) {
    EXPECT_FALSE(split_key("/failover", key)) << key;
  }
}

TEST(RegistryEtcdKeys, InstanceValueRoundTrips) {
  InstanceValue v{.address = "127.0.0.1", .port = 8080, .ttl_ms = 1000,
                  .meta = R"({"zone":"a","w":3})"};
  const std::string text = encode_instance_value(v);
  EXPECT_EQ(js(text), js(R"({"address":"127.0.0.1","port":8080,"ttl_ms":1000,"meta":{"zone":"a","w":3}})"));
  auto d = decode_instance_value(text);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, v);
  // As stored in etcd in the captured range above.
  d = decode_instance_value(R"({"address":"127.0.0.1","port":8080,"ttl_ms":1000,"meta":{}})");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->meta, "{}");
  d = decode_instance_value(R"({"address":"h","port":1,"ttl_ms":100})");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->meta, "{}");
}

TEST(RegistryEtcdKeys, InstanceValueRefusesBadSpecs) {
  for (const char* text : {
           R"({"port":8080,"ttl_ms":1000})", R"({"address":"","port":8080,"ttl_ms":1000})",
           R"({"address":"h","port":0,"ttl_ms":1000})", R"({"address":"h","port":65536,"ttl_ms":1000})",
           R"({"address":"h","port":80,"ttl_ms":0})", R"({"address":"h","port":80,"ttl_ms":"x"})",
           R"({"address":"h","port":80,"ttl_ms":5,"meta":[]})", R"({"address":1,"port":80,"ttl_ms":5})",
           "xyz", ""}) {
    EXPECT_FALSE(decode_instance_value(text)) << text;
  }
}

TEST(RegistryEtcdKeys, LeaseSeconds) {
  EXPECT_EQ(lease_seconds(100ms), 1);
  EXPECT_EQ(lease_seconds(1000ms), 1);
  EXPECT_EQ(lease_seconds(1001ms), 2);
  EXPECT_EQ(lease_seconds(15s), 15);
  EXPECT_EQ(lease_seconds(0ms), 1);
}

TEST(RegistryEtcdKeys, InstanceValueNeverThrowsOnGarbage) {
  for (std::string_view in : {"", "{", "null", "[[[[", "\xff\xfe", "{\"address\":\"\xc3\x28\"}"})
    EXPECT_FALSE(decode_instance_value(in));
  EXPECT_FALSE(decode_instance_value(std::string(10000, '[')));
}

}  // namespace
}  // namespace failover::registry::etcd_keys
