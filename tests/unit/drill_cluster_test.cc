// The cluster file of `failover up`: the shipped example, each mistake a
// user can make (reported at its line), and the plan: every generated
// config is one its role accepts, in an order where each layer starts after
// the ones it depends on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/config.h"
#include "arbiter/witness_config.h"
#include "dns/config.h"
#include "drill/cluster_config.h"
#include "drill/cluster_plan.h"
#include "drill/component_summary.h"
#include "lb/config.h"
#include "registry/config.h"
#include "store/config.h"
#include "support/config_error.h"

namespace failover::test {
namespace {

using drill::ComponentKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kExample = FAILOVER_SOURCE_DIR "/examples/cluster.yaml";

const char* kSmall = R"(cluster:
  dir: /tmp/c
witness: {listen: 127.0.0.1:7200}
store:
  nodes:
    a: {listen: 127.0.0.1:7001, peer_listen: 127.0.0.1:7101}
    b: {listen: 127.0.0.1:7002, peer_listen: 127.0.0.1:7102}
registry:
  nodes:
    r1: {listen: 127.0.0.1:8500}
service:
  instances:
    web-1: {listen: 127.0.0.1:18081, agent: 127.0.0.1:19081}
lb:
  nodes:
    lb-a: {listen: 127.0.0.11:8080, admin: 127.0.0.11:9080}
dns:
  nodes:
    dns-1: {http_listen: 127.0.0.21:8053}
)";

std::string with(const std::string& from, const std::string& to) {
  std::string s = kSmall;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

std::string error_in(const std::string& text) {
  return error_of([&] { drill::parse_cluster_config(text, "c.yaml"); });
}

TEST(ClusterConfig, TheShippedExampleIsValid) {
  const drill::ClusterConfig c = drill::load_cluster_config(kExample);
  EXPECT_EQ(c.store_nodes.size(), 2u);
  EXPECT_EQ(c.lbs.size(), 2u);
  EXPECT_EQ(c.instances.size(), 3u);
  EXPECT_EQ(c.dns_nodes.size(), 2u);
  EXPECT_EQ(c.registry_nodes.size(), 2u);
  EXPECT_EQ(c.lease, std::chrono::milliseconds(200));
  EXPECT_EQ(c.check.interval, std::chrono::milliseconds(200));
}

TEST(ClusterConfig, DefaultsFillWhatASmallFileLeavesOut) {
  const drill::ClusterConfig c = drill::parse_cluster_config(kSmall, "c.yaml");
  EXPECT_EQ(c.dashboard, "127.0.0.1:9000");
  EXPECT_EQ(c.service, "web");
  EXPECT_EQ(c.dns_name, "web.failover.test");
  EXPECT_EQ(c.dns_nodes.at(0).dns_listen, "");
  EXPECT_EQ(c.heartbeat_timeout, std::chrono::milliseconds(250));
}

TEST(ClusterConfig, EachMistakeIsReportedAtItsLine) {
  EXPECT_EQ(error_in(with("  dir: /tmp/c\n", "  dri: /tmp/c\n")).substr(0, 9), "c.yaml:2:");
  EXPECT_THAT(error_in(with("  dir: /tmp/c\n", "  dri: /tmp/c\n")), HasSubstr("unknown key dri"));
  // A name used twice, by components of different layers.
  EXPECT_THAT(error_in(with("    r1: {", "    a: {")), HasSubstr("c.yaml:10: registry.nodes.a: "));
  EXPECT_THAT(error_in(with("    r1: {", "    a: {")), HasSubstr("already used by another component"));
  // Two components on one address.
  EXPECT_THAT(error_in(with("127.0.0.1:8500", "127.0.0.1:7101")), HasSubstr("c.yaml:10: "));
  EXPECT_THAT(error_in(with("127.0.0.1:8500", "127.0.0.1:7101")), HasSubstr("already used by a"));
  // The dashboard's default address counts as taken.
  EXPECT_THAT(error_in(with("127.0.0.1:8500", "127.0.0.1:9000")), HasSubstr("already used by the dashboard"));
  EXPECT_THAT(error_in(with("127.0.0.1:19081", "127.0.0.1:99999")), HasSubstr("c.yaml:13: service.instances.web-1.agent: bad address"));
  EXPECT_THAT(error_in(with("store:\n", "store:\n  lease: 300ms\n")), HasSubstr("not safely shorter"));
  EXPECT_THAT(error_in(with("    b: {listen: 127.0.0.1:7002, peer_listen: 127.0.0.1:7102}\n", "")),
              HasSubstr("must name two nodes"));
  EXPECT_THAT(error_in(with("lb:\n  nodes:\n    lb-a: {listen: 127.0.0.11:8080, admin: 127.0.0.11:9080}\n", "")),
              HasSubstr("c.yaml:1: missing key lb"));
  EXPECT_THAT(error_in(with("    web-1:", "    web 1:")), HasSubstr("name \"web 1\""));
  EXPECT_THAT(error_in("cluster: [\n"), HasSubstr("c.yaml:"));
  EXPECT_THAT(error_in(""), HasSubstr("expected a map"));
}

// Every generated config is parsed by its role's own parser.
void expect_role_accepts(const drill::ComponentPlan& p) {
  SCOPED_TRACE(p.name + ":\n" + p.config_text);
  const std::string& t = p.config_text;
  const std::string& f = p.config_path;
  switch (p.kind) {
    case ComponentKind::kWitness: arbiter::parse_witness_config(t, f); break;
    case ComponentKind::kStore: store::parse_store_config(t, f); break;
    case ComponentKind::kRegistry: registry::parse_registry_config(t, f); break;
    case ComponentKind::kAgent: agent::parse_agent_config(t, f); break;
    case ComponentKind::kLb: lb::parse_lb_config(t, f); break;
    case ComponentKind::kDns: dns::parse_dns_config(t, f); break;
    case ComponentKind::kService: EXPECT_EQ(t, ""); break;  // flags only
  }
}

TEST(ClusterPlan, EveryGeneratedConfigIsOneItsRoleAccepts) {
  const auto plan = drill::plan_cluster(drill::load_cluster_config(kExample));
  ASSERT_EQ(plan.size(), 1u + 2 + 2 + 3 * 2 + 2 + 2);
  for (const drill::ComponentPlan& p : plan) {
    EXPECT_NO_THROW(expect_role_accepts(p)) << error_of([&] { expect_role_accepts(p); });
  }
}

TEST(ClusterPlan, EachLayerStartsAfterTheOnesItNeeds) {
  const auto plan = drill::plan_cluster(drill::load_cluster_config(kExample));
  std::vector<std::string> order;
  for (const auto& p : plan) order.push_back(p.name);
  EXPECT_THAT(order, ElementsAre("witness", "store-a", "store-b", "registry-1", "registry-2", "web-1", "web-1-agent",
                                 "web-2", "web-2-agent", "web-3", "web-3-agent", "lb-a", "lb-b", "dns-1", "dns-2"));
}

TEST(ClusterPlan, ComponentsFindEachOther) {
  const auto plan = drill::plan_cluster(drill::load_cluster_config(kExample));
  auto find = [&](const std::string& name) {
    for (const auto& p : plan)
      if (p.name == name) return p;
    ADD_FAILURE() << name;
    return drill::ComponentPlan{};
  };
  const store::StoreConfig a = store::parse_store_config(find("store-a").config_text, "a");
  EXPECT_EQ(a.arbiter_address, "127.0.0.1:7200");
  EXPECT_TRUE(a.peers.contains("store-b"));
  EXPECT_EQ(a.data_dir, "/tmp/failover-cluster/data/store-a");
  EXPECT_THAT(find("dns-1").config_text, HasSubstr("127.0.0.11:8080"));
  EXPECT_THAT(find("dns-1").config_text, HasSubstr("127.0.0.12:8080"));
  EXPECT_THAT(find("lb-a").config_text, HasSubstr("http://127.0.0.1:8501"));
  EXPECT_THAT(find("web-2").args, ElementsAre("demo-service", "--name", "web-2", "--listen", "127.0.0.1:18082",
                                              "--store", "http://127.0.0.1:7001,http://127.0.0.1:7002"));
  // web-2 registers the address of its fault proxy: the LBs reach it through it.
  EXPECT_THAT(find("web-2-agent").config_text, HasSubstr("port: 18092"));
  EXPECT_THAT(find("web-3-agent").config_text, HasSubstr("port: 18083"));
  EXPECT_EQ(find("web-2").ready_path, "/health");
}

TEST(ClusterPlan, AProxiedComponentIsReachedThroughItsProxy) {
  std::string text = kSmall;
  text.replace(text.find("peer_listen: 127.0.0.1:7102}"), 28, "peer_listen: 127.0.0.1:7102, proxy: 127.0.0.1:7202}");
  text.replace(text.find("{listen: 127.0.0.1:8500}"), 24, "{listen: 127.0.0.1:8500, proxy: 127.0.0.1:8600}");
  const drill::ClusterConfig c = drill::parse_cluster_config(text, "c.yaml");
  const auto proxies = drill::plan_proxies(c);
  ASSERT_EQ(proxies.size(), 2u);
  EXPECT_EQ(proxies[0].component, "b");
  EXPECT_EQ(proxies[0].listen, "127.0.0.1:7202");
  EXPECT_EQ(proxies[0].upstream, "127.0.0.1:7102");
  for (const auto& p : drill::plan_cluster(c)) {
    if (p.name == "a") {
      const store::StoreConfig a = store::parse_store_config(p.config_text, "a");
      EXPECT_EQ(a.peers.at("b").peer_listen, "127.0.0.1:7202");  // a replicates to b through the proxy
    }
    if (p.kind == ComponentKind::kAgent || p.kind == ComponentKind::kLb) {
      EXPECT_THAT(p.config_text, HasSubstr("http://127.0.0.1:8600"));
    }
  }
  // An LB's proxy keeps the LB's port: DNS names only its IP.
  EXPECT_THAT(error_in(with("admin: 127.0.0.11:9080}", "admin: 127.0.0.11:9080, proxy: 127.0.0.13:8081}")),
              HasSubstr("must use the LB's own port (8080)"));
  // A proxy's address is claimed like any other.
  EXPECT_THAT(error_in(with("admin: 127.0.0.11:9080}", "admin: 127.0.0.11:9080, proxy: 127.0.0.1:8500}")),
              HasSubstr("already used by r1"));
}

TEST(ComponentSummary, SaysEachRoleInOneLine) {
  auto sum = [](ComponentKind k, const char* doc) { return drill::summarize_status(k, boost::json::parse(doc)); };
  EXPECT_EQ(sum(ComponentKind::kStore, R"({"role":"primary","epoch":3,"serving":true})"), "primary e3");
  EXPECT_EQ(sum(ComponentKind::kStore, R"({"role":"primary","epoch":3,"serving":false})"), "primary e3 not serving");
  EXPECT_EQ(sum(ComponentKind::kStore, R"({"role":"backup","epoch":3,"in_sync":false})"), "backup e3 behind");
  EXPECT_EQ(sum(ComponentKind::kWitness, R"({"record":{"primary":"a","epoch":2}})"), "primary a e2");
  EXPECT_EQ(sum(ComponentKind::kLb, R"({"upstreams":[{"servers":[{"state":"up"},{"state":"down"}]}]})"),
            "1/2 servers up");
  EXPECT_EQ(sum(ComponentKind::kDns, R"({"names":[{"answer":{"ips":["127.0.0.11"]}}]})"), "answers 127.0.0.11");
  EXPECT_EQ(sum(ComponentKind::kAgent, R"({"services":[{"healthy":true,"registered":true}]})"),
            "healthy, registered");
  EXPECT_EQ(sum(ComponentKind::kService, R"({"store_current":"http://127.0.0.1:7001"})"), "store 127.0.0.1:7001");
  EXPECT_EQ(sum(ComponentKind::kLb, R"([1,2])"), "");  // not a status document
}

TEST(ComponentSummary, CountsTheRequestsOfLbsAndInstances) {
  auto counts = [](ComponentKind k, const char* doc) { return drill::request_counts(k, boost::json::parse(doc)); };
  const auto lb = counts(ComponentKind::kLb, R"({"upstreams":[{"servers":[{"requests":{"total":10,"failures":1}},
                                                                {"requests":{"total":5,"failures":0}}]}]})");
  ASSERT_TRUE(lb);
  EXPECT_EQ(lb->total, 15u);
  EXPECT_EQ(lb->failed, 1u);
  const auto svc = counts(ComponentKind::kService, R"({"requests":{"get_ok":4,"get_not_found":1,"get_failed":2,
                                                                   "put_ok":3,"put_failed":1}})");
  ASSERT_TRUE(svc);
  EXPECT_EQ(svc->total, 11u);
  EXPECT_EQ(svc->failed, 3u);
  EXPECT_FALSE(counts(ComponentKind::kStore, R"({"role":"primary"})"));
}

}  // namespace
}  // namespace failover::test
