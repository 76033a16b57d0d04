// `dns:` config files: what they read and every refusal, with file:line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dns/config.h"
#include "support/config_error.h"

namespace failover::dns {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string error_of(const std::string& yaml) {
  return test::error_of([&] { parse_dns_config(yaml, "d.yaml"); });
}

TEST(DnsConfig, ReadsEverything) {
  const DnsConfig c = parse_dns_config(R"(dns:
  http_listen: 127.0.0.1:8053
  dns_listen: 127.0.0.1:5353
  ttl: 60
  threads: 2
  panic: false
  secret: s3cret
  nameserver: ns1.example.com
  domains:
    WWW.Example.com.:
      targets: [127.0.0.11:8080, 127.0.0.12, "[::1]:8080", "::2"]
      check: {interval: 1000, rise: 2, fall: 3, timeout: 500, type: http, uri: /health}
      ttl: 5
    api.example.com:
      discovery: {registry: [http://127.0.0.1:8500], service: api}
)", "d.yaml");
  EXPECT_EQ(c.http_listen, "127.0.0.1:8053");
  EXPECT_EQ(c.ttl, 60u);
  EXPECT_EQ(c.threads, 2);
  EXPECT_FALSE(c.panic);
  EXPECT_EQ(c.secret, "s3cret");
  EXPECT_EQ(c.nameserver, "ns1.example.com");
  ASSERT_EQ(c.domains.size(), 2u);
  const DomainConfig& www = c.domains[0];
  EXPECT_EQ(www.name, "www.example.com");  // lower case, final dot dropped
  ASSERT_EQ(www.targets.size(), 4u);
  EXPECT_EQ(www.targets[0].key(), "127.0.0.11:8080");
  EXPECT_EQ(www.targets[1].port, kDefaultCheckPort);
  EXPECT_TRUE(www.targets[2].v6);
  EXPECT_EQ(www.targets[2].key(), "[::1]:8080");
  EXPECT_EQ(www.targets[3].ip, "::2");
  EXPECT_TRUE(www.check.enabled);
  EXPECT_EQ(www.check.fall, 3);
  EXPECT_EQ(www.ttl, 5u);
  ASSERT_TRUE(c.domains[1].discovery);
  EXPECT_EQ(c.domains[1].discovery->service, "api");
}

TEST(DnsConfig, ParsesTargets) {
  EXPECT_EQ(parse_target("127.0.0.1")->port, kDefaultCheckPort);
  EXPECT_EQ(parse_target("[2001:db8::1]:53")->ip, "2001:db8::1");
  EXPECT_EQ(parse_target("2001:DB8:0::1")->ip, "2001:db8::1");  // canonical text
  EXPECT_FALSE(parse_target("example.com:80"));
  EXPECT_FALSE(parse_target("127.0.0.1:0"));
  EXPECT_FALSE(parse_target("127.0.0.1:65536"));
  EXPECT_FALSE(parse_target("[::1"));
  EXPECT_FALSE(parse_target("[::1]x"));
  EXPECT_FALSE(parse_target("1.2.3.4.5"));
  EXPECT_FALSE(parse_target(""));
}

TEST(DnsConfig, RefusesWithFileAndLine) {
  EXPECT_THAT(error_of("dns:\n  domains: {}\n"), StartsWith("d.yaml:2: "));
  EXPECT_THAT(error_of("dns:\n  domains:\n    a.com: {targets: [example.org]}\n"),
              AllOf(StartsWith("d.yaml:3: "), HasSubstr("bad target")));
  EXPECT_THAT(error_of("dns:\n  domains:\n    a.com: {targets: [1.2.3.4, 1.2.3.4]}\n"), HasSubstr("listed twice"));
  EXPECT_THAT(error_of("dns:\n  domains:\n    a.com: {}\n"), HasSubstr("needs targets: or discovery:"));
  EXPECT_THAT(error_of("dns:\n  domains:\n    'a b.com': {targets: [1.2.3.4]}\n"), HasSubstr("not a host name"));
  EXPECT_THAT(error_of("dns:\n  domains:\n    a..com: {targets: [1.2.3.4]}\n"), HasSubstr("not a host name"));
  EXPECT_THAT(error_of("dns:\n  domains:\n    a.com: {targets: [1.2.3.4]}\n    A.com.: {targets: [1.2.3.5]}\n"),
              AllOf(StartsWith("d.yaml:4: "), HasSubstr("configured twice")));
  EXPECT_THAT(error_of("dns:\n  ttl: -1\n  domains:\n    a.com: {targets: [1.2.3.4]}\n"), StartsWith("d.yaml:2: "));
  EXPECT_THAT(error_of("dns:\n  ttl: 86401\n  domains:\n    a.com: {targets: [1.2.3.4]}\n"), StartsWith("d.yaml:2: "));
  EXPECT_THAT(error_of("dns:\n  dns_listen: 127.0.0.1\n  domains:\n    a.com: {targets: [1.2.3.4]}\n"),
              AllOf(StartsWith("d.yaml:2: "), HasSubstr("bad address")));
  EXPECT_THAT(error_of("dns:\n  ttll: 5\n  domains:\n    a.com: {targets: [1.2.3.4]}\n"), HasSubstr("unknown key ttll"));
  EXPECT_THAT(error_of("dns:\n  domains:\n    a.com: {targets: [1.2.3.4], check: {fall: 0}}\n"), StartsWith("d.yaml:3: "));
  EXPECT_THAT(error_of("dns:\n  domains:\n    a.com: {discovery: {registry: [ftp://x], service: s}}\n"),
              HasSubstr("bad URL"));
  EXPECT_THAT(error_of("lb: {}\n"), HasSubstr("dns"));
}

TEST(DnsConfig, TcpLimitsHaveDefaultsAndAreRead) {
  const DnsConfig d = parse_dns_config("dns:\n  domains:\n    a.com: {targets: [1.2.3.4]}\n", "d.yaml");
  EXPECT_EQ(d.tcp.max_connections, 512u);
  EXPECT_EQ(d.tcp.max_connections_per_client, 64u);
  EXPECT_EQ(d.tcp.idle_timeout, std::chrono::seconds(10));
  const DnsConfig c = parse_dns_config(R"(dns:
  tcp: {max_connections: 100, max_connections_per_client: 8, idle_timeout: 3s}
  domains:
    a.com: {targets: [1.2.3.4]}
)", "d.yaml");
  EXPECT_EQ(c.tcp.max_connections, 100u);
  EXPECT_EQ(c.tcp.max_connections_per_client, 8u);
  EXPECT_EQ(c.tcp.idle_timeout, std::chrono::seconds(3));
  EXPECT_EQ(parse_dns_config("dns:\n  tcp: {idle_timeout: 250}\n  domains:\n    a.com: {targets: [1.2.3.4]}\n",
                             "d.yaml").tcp.idle_timeout,
            std::chrono::milliseconds(250));  // a bare integer is milliseconds
}

TEST(DnsConfig, RefusesBadTcpLimitsWithFileAndLine) {
  const auto with_tcp = [](const std::string& tcp) {
    return error_of("dns:\n  domains:\n    a.com: {targets: [1.2.3.4]}\n  tcp:\n" + tcp);
  };
  EXPECT_THAT(with_tcp("    max_connections: 0\n"), AllOf(StartsWith("d.yaml:5: "), HasSubstr("max_connections")));
  EXPECT_THAT(with_tcp("    max_connections: -1\n"), StartsWith("d.yaml:5: "));
  EXPECT_THAT(with_tcp("    max_connections: many\n"), AllOf(StartsWith("d.yaml:5: "), HasSubstr("integer")));
  EXPECT_THAT(with_tcp("    max_connections: 10\n    max_connections_per_client: 0\n"),
              AllOf(StartsWith("d.yaml:6: "), HasSubstr("max_connections_per_client")));
  EXPECT_THAT(with_tcp("    idle_timeout: soon\n"), AllOf(StartsWith("d.yaml:5: "), HasSubstr("duration")));
  EXPECT_THAT(with_tcp("    idle_timeout: 0\n"), AllOf(StartsWith("d.yaml:5: "), HasSubstr("idle_timeout")));
  EXPECT_THAT(with_tcp("    idle_timeout: 2h\n"), StartsWith("d.yaml:5: "));
  EXPECT_THAT(with_tcp("    idle_timout: 3s\n"), AllOf(StartsWith("d.yaml:5: "), HasSubstr("unknown key idle_timout")));
  EXPECT_THAT(error_of("dns:\n  tcp: 512\n  domains:\n    a.com: {targets: [1.2.3.4]}\n"), StartsWith("d.yaml:2: "));
}

TEST(DnsConfig, EmptyDnsListenMeansHttpdnsOnly) {
  const DnsConfig c = parse_dns_config("dns:\n  dns_listen: ''\n  domains:\n    a.com: {targets: [1.2.3.4]}\n", "d.yaml");
  EXPECT_EQ(c.dns_listen, "");
}

}  // namespace
}  // namespace failover::dns
