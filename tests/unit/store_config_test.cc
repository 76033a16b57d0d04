// `store:` config: what a user gets for a good file and for each mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/config.h"
#include "support/config_error.h"

namespace failover::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const char* kGood = R"(store:
  node: a
  listen: 127.0.0.1:7001
  peer_listen: 127.0.0.1:7101
  data_dir: data/a
  peers: {b: {listen: 127.0.0.1:7002, peer_listen: 127.0.0.1:7102}}
  arbiter: {type: witness, address: 127.0.0.1:7200}
  replication: sync
  heartbeat: {interval: 50ms, timeout: 250ms}
  lease: 200ms
)";

std::string with(const std::string& line_from, const std::string& line_to) {
  std::string s = kGood;
  const auto at = s.find(line_from);
  EXPECT_NE(at, std::string::npos) << line_from;
  return s.replace(at, line_from.size(), line_to);
}

TEST(StoreConfig, ReadsTheDesignExample) {
  const store::StoreConfig c = store::parse_store_config(kGood, "s.yaml");
  EXPECT_EQ(c.node, "a");
  EXPECT_EQ(c.peers.at("b").peer_listen, "127.0.0.1:7102");
  EXPECT_EQ(c.arbiter_address, "127.0.0.1:7200");
  EXPECT_EQ(c.heartbeat_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.lease, std::chrono::milliseconds(200));
  EXPECT_FALSE(c.strict);
}

TEST(StoreConfig, LeaseMustBeSafelyShorterThanTheGrace) {
  EXPECT_EQ(store::max_safe_lease(std::chrono::milliseconds(250)), std::chrono::milliseconds(230));
  EXPECT_EQ(error_of([] { store::parse_store_config(with("lease: 200ms", "lease: 231ms"), "s.yaml"); }),
            "s.yaml:10: store.lease: 231ms is not safely shorter than heartbeat.timeout 250ms: with clocks "
            "drifting 2% and 10ms of slack it must be at most 230ms");
  EXPECT_EQ(error_of([] { store::parse_store_config(with("lease: 200ms", "lease: 230ms"), "s.yaml"); }), "no error");
  EXPECT_THAT(error_of([] { store::parse_store_config(with("lease: 200ms", "lease: 60ms"), "s.yaml"); }),
              HasSubstr("at least 2 x heartbeat.interval"));
}

TEST(StoreConfig, LogSegmentsAndKeptEntries) {
  const store::StoreConfig d = store::parse_store_config(kGood, "s.yaml");
  EXPECT_EQ(d.log_segment_bytes, 64u << 20);
  EXPECT_EQ(d.log_keep_entries, 100'000u);
  const store::StoreConfig c =
      store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  log: {segment_bytes: 1MiB, keep_entries: 5000}"), "s.yaml");
  EXPECT_EQ(c.log_segment_bytes, 1u << 20);
  EXPECT_EQ(c.log_keep_entries, 5000u);
  EXPECT_THAT(error_of([] {
                store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  log: {keep_entries: 0}"), "s.yaml");
              }),
              StartsWith("s.yaml:11:"));
  EXPECT_THAT(error_of([] {
                store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  log: {segment_bytes: 10}"), "s.yaml");
              }),
              StartsWith("s.yaml:11:"));
  EXPECT_THAT(error_of([] {
                store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  log: {keep: 10}"), "s.yaml");
              }),
              HasSubstr("unknown key keep"));
}

TEST(StoreConfig, AnEtcdArbiterTakesEndpointsAndAKey) {
  const std::string etcd = "arbiter: {type: etcd, endpoints: [http://127.0.0.1:2379, http://127.0.0.2:2379], key: /failover/store/s1}";
  std::string text = kGood;
  const auto from = text.find("arbiter:");
  text.replace(from, text.find('\n', from) - from, etcd);
  const store::StoreConfig c = store::parse_store_config(text, "s.yaml");
  EXPECT_EQ(c.arbiter_type, "etcd");
  EXPECT_EQ(c.arbiter_endpoints, (std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.2:2379"}));
  EXPECT_EQ(c.arbiter_key, "/failover/store/s1");
  EXPECT_EQ(store::arbiter_name(c), "etcd /failover/store/s1");
  // As DESIGN.md writes it, without a key: the default one.
  std::string plain = kGood;
  const auto at = plain.find("arbiter:");
  plain.replace(at, plain.find('\n', at) - at, "arbiter: {type: etcd, endpoints: [http://127.0.0.1:2379]}");
  EXPECT_EQ(store::parse_store_config(plain, "s.yaml").arbiter_key, "/failover/store/default");
  for (const auto& [bad, says] : std::vector<std::pair<std::string, std::string>>{
           {"endpoints: [], key: /k", "at least one"},
           {"endpoints: [https://x:1], key: /k", "https"},
           {"endpoints: [http://x:1], key: k", "must be a key"},
           {"key: /k", "endpoints"}}) {
    std::string t = kGood;
    const auto at = t.find("arbiter:");
    t.replace(at, t.find('\n', at) - at, "arbiter: {type: etcd, " + bad + "}");
    EXPECT_THAT(error_of([&] { store::parse_store_config(t, "s.yaml"); }), HasSubstr(says)) << bad;
  }
}

TEST(StoreConfig, NotifyCommandsByRole) {
  const store::StoreConfig c = store::parse_store_config(
      with("lease: 200ms", "lease: 200ms\n  notify: {primary: /usr/local/bin/vip up, fenced: logger fenced}"), "s.yaml");
  EXPECT_EQ(c.notify.at("primary"), "/usr/local/bin/vip up");
  EXPECT_EQ(c.notify.at("fenced"), "logger fenced");
  EXPECT_FALSE(c.notify.contains("backup"));
  EXPECT_THAT(error_of([] {
                store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  notify: {candidate: x}"), "s.yaml");
              }),
              HasSubstr("unknown key candidate"));
  EXPECT_THAT(error_of([] {
                store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  notify: {primary: ''}"), "s.yaml");
              }),
              HasSubstr("must be a command"));
}

TEST(StoreConfig, AVipAndTheRoomKeptOnDisk) {
  const store::StoreConfig c = store::parse_store_config(
      with("lease: 200ms", "lease: 200ms\n  vip: {address: 10.0.0.100/24, interface: eth0}\n  min_free_disk: 16MiB"),
      "s.yaml");
  ASSERT_TRUE(c.vip.has_value());
  EXPECT_EQ(c.vip->address, "10.0.0.100/24");
  EXPECT_EQ(c.vip->ipv4, 0x0a000064u);
  EXPECT_EQ(c.vip->interface, "eth0");
  EXPECT_EQ(c.min_free_disk, 16u << 20);
  EXPECT_FALSE(store::parse_store_config(with("", ""), "s.yaml").vip.has_value());
  EXPECT_EQ(store::parse_store_config(with("", ""), "s.yaml").min_free_disk, 64u << 20);
  for (const char* bad : {"10.0.0.100", "10.0.0.300/24", "10.0.0.1/33", "10.0.0.1/", "vip/24", "::1/64"})
    EXPECT_THAT(error_of([bad] {
                  store::parse_store_config(
                      with("lease: 200ms", std::string("lease: 200ms\n  vip: {address: '") + bad + "', interface: eth0}"),
                      "s.yaml");
                }),
                AllOf(StartsWith("s.yaml:11: store.vip.address:"), HasSubstr("not an IPv4 address with its prefix length")))
        << bad;
  for (const char* bad : {"eth 0", "a-very-long-interface0", "eth0;reboot", "''"})
    EXPECT_THAT(error_of([bad] {
                  store::parse_store_config(
                      with("lease: 200ms", std::string("lease: 200ms\n  vip: {address: 10.0.0.1/24, interface: ") + bad + "}"),
                      "s.yaml");
                }),
                HasSubstr("not an interface name"))
        << bad;
  EXPECT_THAT(error_of([] {
                store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  vip: {address: 10.0.0.1/24}"), "s.yaml");
              }),
              HasSubstr("missing key interface"));
}

TEST(StoreConfig, TheUploadBudgetHoldsAtLeastOneLargestValue) {
  EXPECT_EQ(store::parse_store_config(with("", ""), "s.yaml").max_upload_bytes, 256u << 20);
  EXPECT_EQ(store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  max_upload_bytes: 1GiB"), "s.yaml")
                .max_upload_bytes,
            1u << 30);
  EXPECT_THAT(error_of([] {
                store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  max_upload_bytes: 16MiB"), "s.yaml");
              }),
              AllOf(StartsWith("s.yaml:11: store.max_upload_bytes:"), HasSubstr("between 64m")));
}

TEST(StoreConfig, EveryMistakeSaysWhereAndWhat) {
  EXPECT_THAT(error_of([] { store::parse_store_config(with("  node: a\n", ""), "s.yaml"); }),
              HasSubstr("missing key node"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("replication: sync", "replication: async"), "s.yaml"); }),
              StartsWith("s.yaml:8: store.replication: async replication is not available"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("replication: sync", "replication: quorum"), "s.yaml"); }),
              StartsWith("s.yaml:8:"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("type: witness", "type: etcd"), "s.yaml"); }),
              HasSubstr("not address"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("type: witness", "type: zookeeper"), "s.yaml"); }),
              StartsWith("s.yaml:7:"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("timeout: 250ms", "timeout: 100ms"), "s.yaml"); }),
              HasSubstr("at least 3 x interval"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("peers: {b:", "peers: {a:"), "s.yaml"); }),
              HasSubstr("this node's own name"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("listen: 127.0.0.1:7001", "listen: nowhere"), "s.yaml"); }),
              StartsWith("s.yaml:3: store.listen: bad address"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  preempt: maybe"), "s.yaml"); }),
              HasSubstr("preempt"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  preempt_hold_down: 0s"), "s.yaml"); }),
              HasSubstr("preempt_hold_down"));
  EXPECT_THAT(error_of([] { store::parse_store_config(with("lease: 200ms", "lease: 200ms\n  leese: 1"), "s.yaml"); }),
              HasSubstr("unknown key leese"));
}

}  // namespace
}  // namespace failover::test
