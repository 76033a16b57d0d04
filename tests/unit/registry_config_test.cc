// `registry:` and `agent:` config files: what they read and every refusal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config.h"
#include "registry/config.h"
#include "support/config_error.h"

namespace failover {
namespace {

using ::testing::StartsWith;
using std::chrono::milliseconds;

std::string registry_error(const std::string& yaml) {
  return test::error_of([&] { registry::parse_registry_config(yaml, "r.yaml"); });
}

std::string agent_error(const std::string& yaml) {
  return test::error_of([&] { agent::parse_agent_config(yaml, "a.yaml"); });
}

TEST(RegistryConfig, ReadsEverything) {
  const auto c = registry::parse_registry_config(R"(registry:
  listen: 127.0.0.1:8500
  peers: [http://127.0.0.1:8501, http://127.0.0.1:8502]
  token: change-me
  deregister_after: 10s
  protect_threshold: 0.6
  default_ttl: 5s
  limits: {max_services: 50, max_instances_per_service: 20, min_ttl: 200ms, max_ttl: 1h, max_wait: 1m, max_body_size: 2m}
)", "r.yaml");
  EXPECT_EQ(c.listen, "127.0.0.1:8500");
  EXPECT_EQ(c.peers.size(), 2u);
  EXPECT_EQ(c.token, "change-me");
  EXPECT_EQ(c.backend.type, registry::BackendType::kEmbedded);
  EXPECT_EQ(c.options.deregister_after, milliseconds(10'000));
  EXPECT_DOUBLE_EQ(c.options.protect_threshold, 0.6);
  EXPECT_EQ(c.default_ttl, milliseconds(5000));
  EXPECT_EQ(c.options.max_services, 50u);
  EXPECT_EQ(c.options.max_instances_per_service, 20u);
  EXPECT_EQ(c.options.min_ttl, milliseconds(200));
  EXPECT_EQ(c.max_wait, milliseconds(60'000));
  EXPECT_EQ(c.max_body_size, 2u << 20);
}

TEST(RegistryConfig, ReadsEtcdBackend) {
  const auto c = registry::parse_registry_config(
      "registry:\n  backend: {type: etcd, endpoints: [http://127.0.0.1:2379], prefix: /svc}\n", "r.yaml");
  EXPECT_EQ(c.backend.type, registry::BackendType::kEtcd);
  EXPECT_EQ(c.backend.endpoints[0], "http://127.0.0.1:2379");
  EXPECT_EQ(c.backend.prefix, "/svc");
}

TEST(RegistryConfig, RefusesWithFileAndLine) {
  EXPECT_THAT(registry_error("registry:\n  listen: nowhere\n"), StartsWith("r.yaml:2: registry.listen: bad address"));
  EXPECT_THAT(registry_error("registry:\n  peers: [https://a:1]\n"), StartsWith("r.yaml:2: registry.peers[0]: bad URL"));
  EXPECT_THAT(registry_error("registry:\n  protect_threshold: 2\n"), StartsWith("r.yaml:2: registry.protect_threshold: must be a number from 0 to 1"));
  EXPECT_THAT(registry_error("registry:\n  backend: {type: zookeeper}\n"), StartsWith("r.yaml:2: registry.backend.type: must be embedded or etcd"));
  EXPECT_THAT(registry_error("registry:\n  backend: {type: etcd}\n"), StartsWith("r.yaml:2: registry.backend.endpoints: the etcd backend needs endpoints"));
  EXPECT_THAT(registry_error("registry:\n  limits: {min_ttl: 5s, max_ttl: 1s}\n"), StartsWith("r.yaml:2: registry.limits.max_ttl: must not be below min_ttl"));
  EXPECT_THAT(registry_error("registry:\n  ttl: 5s\n"), StartsWith("r.yaml:2: registry: unknown key ttl"));
  EXPECT_THAT(registry_error("lb:\n  listen: 1.2.3.4:5\n"), StartsWith("r.yaml:1: missing registry: section"));
}

TEST(AgentConfig, ReadsServices) {
  const auto c = agent::parse_agent_config(R"(agent:
  registry: [http://127.0.0.1:8500, http://127.0.0.1:8501]
  token: t
  services:
    - {name: web, id: web-1, address: 127.0.0.1, port: 18081, ttl: 1s, meta: {zone: a, weight: "2"},
       check: {interval: 200, rise: 1, fall: 2, timeout: 200, type: http, uri: /health}}
    - {name: api, port: 9000}
)", "a.yaml");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.registry.size(), 2u);
  const auto& web = c.services[0];
  EXPECT_EQ(web.id, "web-1");
  EXPECT_EQ(web.ttl, milliseconds(1000));
  EXPECT_EQ(web.meta, R"({"zone":"a","weight":"2"})");
  EXPECT_TRUE(web.check.enabled);
  EXPECT_EQ(web.check.fall, 2);
  const auto& api = c.services[1];
  EXPECT_EQ(api.id, "api");  // defaults to the name
  EXPECT_EQ(api.address, "127.0.0.1");
  EXPECT_FALSE(api.check.enabled);
}

TEST(AgentConfig, RefusesWithFileAndLine) {
  const std::string head = "agent:\n  registry: http://127.0.0.1:8500\n  services:\n";
  EXPECT_THAT(agent_error(head + "    - {name: web}\n"), StartsWith("a.yaml:4: agent.services[0]: missing key port"));
  EXPECT_THAT(agent_error(head + "    - {name: web, port: 1, id: a/b}\n"), StartsWith("a.yaml:4: agent.services[0].id: must be 1 to 128"));
  EXPECT_THAT(agent_error(head + "    - {name: web, port: 1}\n    - {name: web, port: 2}\n"), StartsWith("a.yaml:5: agent.services[1]: duplicate service web id web"));
  EXPECT_THAT(agent_error(head + "    - {name: web, port: 1, ttl: 10ms}\n"), StartsWith("a.yaml:4: agent.services[0].ttl: must be between"));
  EXPECT_THAT(agent_error("agent:\n  registry: ftp://x\n  services: [{name: a, port: 1}]\n"), StartsWith("a.yaml:2: agent.registry: bad URL"));
  EXPECT_THAT(agent_error("agent:\n  services: [{name: a, port: 1}]\n"), StartsWith("a.yaml:2: agent: missing key registry"));
}

}  // namespace
}  // namespace failover
