#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/yaml_util.h"
#include "lb/config.h"
#include "support/config_error.h"

namespace failover::lb {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

LbConfig parse(const std::string& yaml) { return parse_lb_config(yaml, "lb.yaml"); }

// The message a user would see, or "no error".
std::string error_of(const std::string& yaml) {
  return test::error_of([&] { parse(yaml); });
}

// One upstream "web" whose body is `upstream` (indented under its "- name:"
// line, which is line 3), then `rest` under lb:.
std::string with_upstream(const std::string& upstream, const std::string& rest = "") {
  return "lb:\n"                // 1
         "  upstreams:\n"       // 2
         "    - name: web\n" +  // 3
         upstream +
         rest;
}

const char* kFull = R"(# the whole stack in one file
registry:
  listen: 127.0.0.1:8500
lb:
  listen: 127.0.0.1:8080
  admin: 127.0.0.1:9081
  threads: 2
  drain_timeout: 15s
  limits: {client_connections: 500, upstream_connections: 50, max_header_size: 8k, max_headers: 200, max_body_size: 2m, header_timeout: 5s, body_timeout: 30s, keepalive_timeout: 0, upstream_idle_timeout: 15s, response_timeout: 45s, tunnel_timeout: 10m}
  upstreams:
    - name: test_web
      balance: round_robin
      servers: [127.0.0.1:18081, {address: 127.0.0.1:18082, weight: 2}, {address: 127.0.0.1:18083, backup: true}, {address: 127.0.0.1:18084, down: true, max_fails: 3, fail_timeout: 5s}]
      check: {interval: 3000, rise: 3, fall: 4, timeout: 1000, type: http, uri: /health, expect: [2xx, 3xx], host: example.com}
      passive: {max_fails: 2, fail_timeout: 20s, max_ejection: 5m}
      retry: {tries: 4, timeout: 6s, try_timeout: 1500ms}
      slow_start: 10s
      panic: false
    - name: api
      balance: p2c
      servers:
        - 10.0.0.1:80
        - {address: "[::1]:8080", weight: 1000}
  routes:
    - {host: "*", path: /, upstream: test_web}
    - {host: api.example.com, path: /v1/, upstream: api}
dns:
  ttl: 60
)";

TEST(LbConfig, ParsesEveryField) {
  LbConfig c = parse(kFull);
  EXPECT_EQ(c.source, "lb.yaml");
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.admin, "127.0.0.1:9081");
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.drain_timeout, milliseconds(15'000));
  EXPECT_EQ(c.limits.client_connections, 500);
  EXPECT_EQ(c.limits.upstream_connections, 50);
  EXPECT_EQ(c.limits.max_header_size, 8u * 1024);
  EXPECT_EQ(c.limits.max_headers, 200);
  EXPECT_EQ(c.limits.max_body_size, 2u * 1024 * 1024);
  EXPECT_EQ(c.limits.header_timeout, milliseconds(5000));
  EXPECT_EQ(c.limits.body_timeout, milliseconds(30'000));
  EXPECT_EQ(c.limits.keepalive_timeout, milliseconds(0));
  EXPECT_EQ(c.limits.upstream_idle_timeout, milliseconds(15'000));
  EXPECT_EQ(c.limits.response_timeout, milliseconds(45'000));
  EXPECT_EQ(c.limits.tunnel_timeout, milliseconds(600'000));

  ASSERT_EQ(c.upstreams.size(), 2u);
  const UpstreamConfig& u = c.upstreams[0];
  EXPECT_EQ(u.name, "test_web");
  EXPECT_EQ(u.line, 11);
  EXPECT_EQ(u.balance, Balance::kRoundRobin);
  ASSERT_EQ(u.servers.size(), 4u);
  EXPECT_EQ(u.servers[0].address, "127.0.0.1:18081");
  EXPECT_EQ(u.servers[0].weight, 1);
  EXPECT_EQ(u.servers[0].line, 13);
  EXPECT_EQ(u.servers[1].weight, 2);
  EXPECT_TRUE(u.servers[2].backup);
  EXPECT_FALSE(u.servers[2].down);
  EXPECT_TRUE(u.servers[3].down);
  EXPECT_EQ(u.servers[3].max_fails, 3);
  EXPECT_EQ(u.servers[3].fail_timeout, milliseconds(5000));
  EXPECT_TRUE(u.check.enabled);
  EXPECT_EQ(u.check.interval, milliseconds(3000));
  EXPECT_EQ(u.check.rise, 3);
  EXPECT_EQ(u.check.fall, 4);
  EXPECT_EQ(u.check.timeout, milliseconds(1000));
  EXPECT_EQ(u.check.type, health::CheckType::kHttp);
  EXPECT_EQ(u.check.uri, "/health");
  EXPECT_EQ(u.check.host, "example.com");
  EXPECT_EQ(u.check.expect, health::kStatus2xx | health::kStatus3xx);
  EXPECT_EQ(u.check.raw_request, "");
  EXPECT_EQ(u.passive.max_fails, 2);
  EXPECT_EQ(u.passive.fail_timeout, milliseconds(20'000));
  EXPECT_EQ(u.passive.max_ejection, milliseconds(300'000));
  EXPECT_EQ(u.retry.tries, 4);
  EXPECT_EQ(u.retry.timeout, milliseconds(6000));
  EXPECT_EQ(u.retry.try_timeout, milliseconds(1500));
  EXPECT_EQ(u.slow_start, milliseconds(10'000));
  EXPECT_FALSE(u.panic);

  const UpstreamConfig& api = c.upstreams[1];
  EXPECT_EQ(api.balance, Balance::kP2C);
  ASSERT_EQ(api.servers.size(), 2u);
  EXPECT_EQ(api.servers[0].line, 22);
  EXPECT_EQ(api.servers[1].address, "[::1]:8080");
  EXPECT_EQ(api.servers[1].weight, 1000);
  EXPECT_EQ(api.servers[1].line, 23);
  EXPECT_FALSE(api.check.enabled);

  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0].host, "*");
  EXPECT_EQ(c.routes[0].path, "/");
  EXPECT_EQ(c.routes[0].upstream, "test_web");
  EXPECT_EQ(c.routes[0].line, 25);
  EXPECT_EQ(c.routes[1].host, "api.example.com");
  EXPECT_EQ(c.routes[1].path, "/v1/");
  EXPECT_EQ(c.routes[1].upstream, "api");
}

TEST(LbConfig, FillsDefaults) {
  LbConfig c = parse(with_upstream("      servers: [127.0.0.1:1]\n"));
  const LbConfig d;
  EXPECT_EQ(c.listen, d.listen);
  EXPECT_EQ(c.admin, d.admin);
  EXPECT_EQ(c.threads, 0);
  EXPECT_EQ(c.cpu_affinity, failover::core::CpuAffinity::kAuto);
  EXPECT_EQ(c.drain_timeout, milliseconds(10'000));
  EXPECT_EQ(c.limits.client_connections, 10'000);
  EXPECT_EQ(c.limits.max_header_size, 16u * 1024);
  EXPECT_EQ(c.limits.max_headers, 100);
  EXPECT_EQ(c.limits.response_timeout, milliseconds(60'000));
  EXPECT_TRUE(c.routes.empty());
  ASSERT_EQ(c.upstreams.size(), 1u);
  const UpstreamConfig& u = c.upstreams[0];
  EXPECT_EQ(u.balance, Balance::kRoundRobin);
  EXPECT_FALSE(u.check.enabled);
  EXPECT_EQ(u.passive.max_fails, 1);
  EXPECT_EQ(u.passive.fail_timeout, milliseconds(10'000));
  EXPECT_EQ(u.retry.tries, 3);
  EXPECT_EQ(u.retry.timeout, milliseconds(5000));
  EXPECT_EQ(u.retry.try_timeout, milliseconds(1000));
  EXPECT_EQ(u.slow_start, milliseconds(0));
  EXPECT_TRUE(u.panic);
  const ServerConfig& s = u.servers[0];
  EXPECT_EQ(s.weight, 1);
  EXPECT_FALSE(s.backup);
  EXPECT_FALSE(s.down);
  EXPECT_EQ(s.max_fails, -1);
  EXPECT_LT(s.fail_timeout.count(), 0);
}

TEST(LbConfig, CheckBlockDefaultsAndSwitch) {
  LbConfig c = parse(with_upstream("      servers: [127.0.0.1:1]\n      check: {type: tcp}\n"));
  const health::CheckConfig& k = c.upstreams[0].check;
  EXPECT_TRUE(k.enabled);
  EXPECT_EQ(k.type, health::CheckType::kTcp);
  EXPECT_EQ(k.interval, milliseconds(3000));
  EXPECT_EQ(k.rise, 2);
  EXPECT_EQ(k.fall, 5);
  EXPECT_EQ(k.uri, "/");
  c = parse(
      with_upstream("      servers: [127.0.0.1:1]\n      check: {enabled: false, rise: 7}\n"));
  EXPECT_FALSE(c.upstreams[0].check.enabled);
  EXPECT_EQ(c.upstreams[0].check.rise, 7);
}

TEST(LbConfig, DurationsTakeMillisecondsOrUnits) {
  LbConfig c =
      parse(with_upstream("      servers: [127.0.0.1:1]\n"
                          "      check: {interval: 250ms, timeout: 2s}\n"
                          "      retry: {timeout: 1m, try_timeout: 750}\n"));
  EXPECT_EQ(c.upstreams[0].check.interval, milliseconds(250));
  EXPECT_EQ(c.upstreams[0].check.timeout, milliseconds(2000));
  EXPECT_EQ(c.upstreams[0].retry.timeout, milliseconds(60'000));
  EXPECT_EQ(c.upstreams[0].retry.try_timeout, milliseconds(750));
}

TEST(LbConfig, ShortRetryTimeoutShortensDefaultTryTimeout) {
  LbConfig c =
      parse(with_upstream("      servers: [127.0.0.1:1]\n      retry: {timeout: 300ms}\n"));
  EXPECT_EQ(c.upstreams[0].retry.try_timeout, milliseconds(300));
}

TEST(LbConfig, LongFailTimeoutRaisesDefaultEjectionCap) {
  LbConfig c =
      parse(with_upstream("      servers: [127.0.0.1:1]\n      passive: {fail_timeout: 10m}\n"));
  EXPECT_EQ(c.upstreams[0].passive.max_ejection, milliseconds(600'000));
}

TEST(LbConfig, ExpectTakesOneStringOrList) {
  LbConfig c = parse(with_upstream("      servers: [127.0.0.1:1]\n      check: {expect: 2xx}\n"));
  EXPECT_EQ(c.upstreams[0].check.expect, health::kStatus2xx);
  c = parse(
      with_upstream("      servers: [127.0.0.1:1]\n      check: {expect: [2xx, 4xx, 5xx]}\n"));
  EXPECT_EQ(c.upstreams[0].check.expect,
            health::kStatus2xx | health::kStatus4xx | health::kStatus5xx);
}

TEST(LbConfig, AcceptsHostNamesAndIpv6) {
  LbConfig c =
      parse(with_upstream("      servers: [localhost:80, \"[::1]:80\", web-1.internal:65535]\n"));
  EXPECT_EQ(c.upstreams[0].servers[1].address, "[::1]:80");
}

TEST(LbConfig, BalanceNamesRoundTrip) {
  for (Balance b : {Balance::kRoundRobin, Balance::kRandom, Balance::kLeastConn, Balance::kP2C}) {
    LbConfig c = parse(with_upstream(std::string("      balance: ") + balance_name(b) +
                                     "\n      servers: [127.0.0.1:1]\n"));
    EXPECT_EQ(c.upstreams[0].balance, b);
  }
}

TEST(LbConfig, LoadSetsSourceToPath) {
  std::string path = ::testing::TempDir() + "lb_config_test.yaml";
  std::ofstream(path) << with_upstream("      servers: [127.0.0.1:1]\n");
  EXPECT_EQ(load_lb_config(path).source, path);
  std::remove(path.c_str());
}

TEST(LbConfig, MissingFileIsLineZero) {
  const auto e = test::config_error_of([] { load_lb_config("/nonexistent/lb.yaml"); });
  ASSERT_TRUE(e) << "no error";
  EXPECT_EQ(e->line(), 0);
  EXPECT_THAT(e->what(), StartsWith("/nonexistent/lb.yaml:0: cannot read file"));
}

TEST(LbConfig, RejectsMissingLbSection) {
  EXPECT_THAT(error_of("registry:\n  listen: 127.0.0.1:1\n"), StartsWith("lb.yaml:1: missing lb"));
  EXPECT_THAT(error_of(""), StartsWith("lb.yaml:1: missing lb"));
  EXPECT_THAT(error_of("# nothing\n"), StartsWith("lb.yaml:1: missing lb"));
  EXPECT_THAT(error_of("- lb\n"), StartsWith("lb.yaml:1: expected a map"));
}

TEST(LbConfig, RejectsNoUpstreams) {
  EXPECT_THAT(error_of("lb:\n  listen: 127.0.0.1:80\n"), StartsWith("lb.yaml:2: lb: no upstreams"));
  EXPECT_THAT(error_of("lb:\n  upstreams: []\n"),
              StartsWith("lb.yaml:2: lb.upstreams: needs at least one upstream"));
  EXPECT_THAT(error_of("lb:\n"), StartsWith("lb.yaml:1: lb: expected a map, got nothing"));
}

TEST(LbConfig, RejectsDuplicateUpstreamNames) {
  EXPECT_THAT(
      error_of(with_upstream("      servers: [127.0.0.1:1]\n"
                             "    - name: web\n"
                             "      servers: [127.0.0.1:2]\n")),
      StartsWith("lb.yaml:5: lb.upstreams[1]: duplicate upstream name web (first on line 3)"));
}

TEST(LbConfig, RejectsUpstreamWithoutServers) {
  EXPECT_THAT(error_of(with_upstream("      balance: random\n")),
              StartsWith("lb.yaml:3: lb.upstreams[0]: no servers"));
  EXPECT_THAT(error_of(with_upstream("      servers: []\n")),
              StartsWith("lb.yaml:4: lb.upstreams[0].servers: needs at least one server"));
}

TEST(LbConfig, RejectsBadAddresses) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http",
                          "\"::1:80\"", "\"[::1]\"", "\"[::1\"", "999.1.1.1:80", "\":80\"",
                          "\"bad host:80\"", "\"[zz::1]:80\"", "127.0.0.1:-1", "\"\""}) {
    std::string err =
        error_of(with_upstream(std::string("      servers: [127.0.0.1:1, ") + bad + "]\n"));
    EXPECT_THAT(err, StartsWith("lb.yaml:4: lb.upstreams[0].servers[1]: bad address")) << bad;
  }
  EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n", "  listen: 8080\n")),
              StartsWith("lb.yaml:5: lb.listen: bad address \"8080\": missing port"));
}

TEST(LbConfig, RejectsDuplicateServer) {
  EXPECT_THAT(error_of(with_upstream("      servers:\n"
                                     "        - 127.0.0.1:1\n"
                                     "        - {address: 127.0.0.1:1, weight: 2}\n")),
              StartsWith("lb.yaml:6: lb.upstreams[0].servers[1]: duplicate server 127.0.0.1:1 "
                         "(also on line 5)"));
}

TEST(LbConfig, RejectsWeightOutOfRange) {
  for (const char* w : {"0", "1001", "-1"}) {
    EXPECT_THAT(
        error_of(with_upstream(std::string("      servers: [{address: 127.0.0.1:1, weight: ") + w +
                               "}]\n")),
        StartsWith("lb.yaml:4: lb.upstreams[0].servers[0].weight: must be between 1 and 1000"));
  }
}

TEST(LbConfig, RejectsMoreThan64Servers) {
  std::string servers = "      servers:\n";
  for (int i = 1; i <= 65; ++i) servers += "        - 127.0.0.1:" + std::to_string(i) + "\n";
  EXPECT_THAT(error_of(with_upstream(servers)),
              StartsWith("lb.yaml:69: lb.upstreams[0].servers[64]: more than 64 servers"));
}

// Each case: a check block, then the expected message after "lb.yaml:5: ".
TEST(LbConfig, RejectsBadCheckValues) {
  const std::pair<const char*, const char*> cases[] = {
      {"{rise: 0}", "lb.upstreams[0].check.rise: must be between 1 and 100"},
      {"{rise: 101}", "lb.upstreams[0].check.rise: must be between 1 and 100"},
      {"{fall: 0}", "lb.upstreams[0].check.fall: must be between 1 and 100"},
      {"{interval: 9ms}", "lb.upstreams[0].check.interval: must be between 10ms and"},
      {"{timeout: 0}", "lb.upstreams[0].check.timeout: must be between 1ms and"},
      {"{timeout: -5}", "lb.upstreams[0].check.timeout: expected a duration"},
      {"{type: udp}", "lb.upstreams[0].check.type: must be tcp or http"},
      {"{uri: health}", "lb.upstreams[0].check.uri: must start with '/'"},
      {"{uri: \"/a b\"}", "lb.upstreams[0].check.uri: must not contain spaces"},
      {"{expect: [2xx, 6xx]}", "lb.upstreams[0].check.expect[1]: expected a status class"},
      {"{enabled: maybe}", "lb.upstreams[0].check.enabled: expected true or false"},
  };
  for (auto [check, message] : cases) {
    std::string err = error_of(
        with_upstream("      servers: [127.0.0.1:1]\n      check: " + std::string(check) + "\n"));
    EXPECT_THAT(err, StartsWith(std::string("lb.yaml:5: ") + message)) << check;
  }
}

TEST(LbConfig, RejectsBadRetryValues) {
  const std::pair<const char*, const char*> cases[] = {
      {"{tries: 0}", "lb.upstreams[0].retry.tries: must be between 1 and 10"},
      {"{tries: 11}", "lb.upstreams[0].retry.tries: must be between 1 and 10"},
      {"{timeout: 1s, try_timeout: 2s}",
       "lb.upstreams[0].retry.try_timeout: must not be longer than timeout"},
  };
  for (auto [retry, message] : cases) {
    std::string err = error_of(
        with_upstream("      servers: [127.0.0.1:1]\n      retry: " + std::string(retry) + "\n"));
    EXPECT_THAT(err, StartsWith(std::string("lb.yaml:5: ") + message)) << retry;
  }
}

TEST(LbConfig, RejectsNegativeMaxFails) {
  EXPECT_THAT(
      error_of(with_upstream("      servers: [127.0.0.1:1]\n      passive: {max_fails: -1}\n")),
      StartsWith("lb.yaml:5: lb.upstreams[0].passive.max_fails: must be between 0 and"));
  EXPECT_THAT(error_of(with_upstream("      servers: [{address: 127.0.0.1:1, max_fails: -1}]\n")),
              StartsWith("lb.yaml:4: lb.upstreams[0].servers[0].max_fails: must be between 0 and"));
  EXPECT_THAT(
      error_of(with_upstream(
          "      servers: [127.0.0.1:1]\n      passive: {fail_timeout: 10s, max_ejection: 5s}\n")),
      StartsWith("lb.yaml:5: lb.upstreams[0].passive.max_ejection: must not be shorter"));
}

TEST(LbConfig, RejectsBadRoutes) {
  const std::string ok = "      servers: [127.0.0.1:1]\n  routes:\n";
  EXPECT_THAT(error_of(with_upstream(ok, "    - {path: /, upstream: nope}\n")),
              StartsWith("lb.yaml:6: lb.routes[0].upstream: unknown upstream nope"));
  EXPECT_THAT(error_of(with_upstream(ok, "    - {path: api, upstream: web}\n")),
              StartsWith("lb.yaml:6: lb.routes[0].path: must start with '/'"));
  EXPECT_THAT(error_of(with_upstream(ok, "    - {path: /}\n")),
              StartsWith("lb.yaml:6: lb.routes[0]: missing key upstream"));
  EXPECT_THAT(error_of(with_upstream(ok, "    - {upstream: web}\n    - {upstream: web}\n")),
              StartsWith("lb.yaml:7: lb.routes[1]: duplicate route"));
}

TEST(LbConfig, RejectsUnknownKeyWithLine) {
  EXPECT_EQ(error_of(with_upstream("      servers: [127.0.0.1:1]\n"
                                   "      check:\n"
                                   "        intreval: 100\n")),
            "lb.yaml:6: lb.upstreams[0].check: unknown key intreval (expected one of: enabled, "
            "interval, rise, fall, timeout, type, uri, expect, host, port, initial, fast_interval, "
            "down_interval)");
  EXPECT_THAT(error_of(with_upstream("      server: [127.0.0.1:1]\n")),
              StartsWith("lb.yaml:4: lb.upstreams[0]: unknown key server (expected one of: name,"));
  EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n", "  listn: 127.0.0.1:1\n")),
              StartsWith("lb.yaml:5: lb: unknown key listn"));
}

TEST(LbConfig, RejectsDuplicateKey) {
  EXPECT_THAT(error_of(with_upstream(
                  "      servers: [127.0.0.1:1]\n      panic: true\n      panic: false\n")),
              StartsWith("lb.yaml:6: lb.upstreams[0]: duplicate key panic"));
}

TEST(LbConfig, RejectsWrongTypes) {
  EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n      check: [1, 2]\n")),
              StartsWith("lb.yaml:5: lb.upstreams[0].check: expected a map, got a list"));
  EXPECT_THAT(error_of(with_upstream("      servers: {a: 1}\n")),
              StartsWith("lb.yaml:4: lb.upstreams[0].servers: expected a list, got a map"));
  EXPECT_THAT(
      error_of(with_upstream("      servers: [127.0.0.1:1]\n      check: {rise: abc}\n")),
      StartsWith("lb.yaml:5: lb.upstreams[0].check.rise: expected an integer, got \"abc\""));
  EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n      check: {rise: [1]}\n")),
              StartsWith("lb.yaml:5: lb.upstreams[0].check.rise: expected a value, got a list"));
  EXPECT_THAT(error_of(with_upstream("      servers: [[127.0.0.1:1]]\n")),
              StartsWith("lb.yaml:4: lb.upstreams[0].servers[0]: expected host:port or a map, got "
                         "a list (quote IPv6"));
  EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n      balance: fastest\n")),
              StartsWith("lb.yaml:5: lb.upstreams[0].balance: must be round_robin, random"));
  EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n      check:\n")),
              StartsWith("lb.yaml:5: lb.upstreams[0].check: expected a map, got nothing"));
  EXPECT_THAT(error_of("lb:\n  upstreams:\n    - name: [x]\n      servers: [127.0.0.1:1]\n"),
              StartsWith("lb.yaml:3: lb.upstreams[0].name: expected a value, got a list"));
  EXPECT_THAT(error_of("lb:\n  upstreams:\n    - name: \"a b\"\n      servers: [127.0.0.1:1]\n"),
              StartsWith("lb.yaml:3: lb.upstreams[0].name: must be 1 to 64 letters"));
}

TEST(LbConfig, RejectsThreadsOutOfRange) {
  for (const char* t : {"-1", "257", "99999999999999999999"}) {
    EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n",
                                       "  threads: " + std::string(t) + "\n")),
                StartsWith("lb.yaml:5: lb.threads: must be between 0 and 256"))
        << t;
  }
}

TEST(LbConfig, ReadsCpuAffinity) {
  const LbConfig c = parse_lb_config(with_upstream("      servers: [127.0.0.1:1]\n", "  cpu_affinity: \"off\"\n"), "lb.yaml");
  EXPECT_EQ(c.cpu_affinity, failover::core::CpuAffinity::kOff);
}

TEST(LbConfig, RejectsUnknownCpuAffinity) {
  EXPECT_THAT(error_of(with_upstream("      servers: [127.0.0.1:1]\n", "  cpu_affinity: always\n")),
              StartsWith("lb.yaml:5: lb.cpu_affinity: cpu_affinity must be auto or off, not 'always'"));
}

TEST(LbConfig, RejectsLimitsOutOfRange) {
  const std::pair<const char*, const char*> cases[] = {
      {"client_connections: 0", "lb.limits.client_connections: must be between 1 and"},
      {"upstream_connections: 1000000", "lb.limits.upstream_connections: must be between 1 and"},
      {"max_header_size: 100", "lb.limits.max_header_size: must be between 1k and 1m"},
      {"max_header_size: 2m", "lb.limits.max_header_size: must be between 1k and 1m"},
      {"max_headers: 0", "lb.limits.max_headers: must be between 1 and 10000"},
      {"max_headers: 10001", "lb.limits.max_headers: must be between 1 and 10000"},
      {"max_body_size: 1t", "lb.limits.max_body_size: expected a size"},
      {"header_timeout: 0", "lb.limits.header_timeout: must be between 1ms and"},
      {"response_timeout: 25h", "lb.limits.response_timeout: must be between 1ms and"},
  };
  for (auto [limit, message] : cases) {
    std::string err = error_of(with_upstream("      servers: [127.0.0.1:1]\n",
                                             "  limits: {" + std::string(limit) + "}\n"));
    EXPECT_THAT(err, StartsWith(std::string("lb.yaml:5: ") + message)) << limit;
  }
}

TEST(LbConfig, ReadsDiscoveryWithoutServers) {
  const LbConfig c = parse_lb_config(
      "lb:\n  upstreams:\n    - name: web\n"
      "      discovery: {registry: [http://127.0.0.1:8500, http://127.0.0.1:8501], service: web}\n",
      "lb.yaml");
  ASSERT_TRUE(c.upstreams[0].discovery);
  EXPECT_TRUE(c.upstreams[0].servers.empty());
  EXPECT_EQ(c.upstreams[0].discovery->registry.size(), 2u);
  EXPECT_EQ(c.upstreams[0].discovery->service, "web");
}

TEST(LbConfig, RejectsBadDiscovery) {
  const std::pair<const char*, const char*> cases[] = {
      {"{registry: [https://x:1], service: web}", "lb.upstreams[0].discovery.registry[0]: bad URL"},
      {"{registry: [http://x:1], service: 'a b'}", "lb.upstreams[0].discovery.service: service name"},
      {"{service: web}", "lb.upstreams[0].discovery: missing key registry"},
      {"{registry: http://x:1, service: web, tag: a}", "lb.upstreams[0].discovery: unknown key tag"},
  };
  for (auto [discovery, message] : cases) {
    const std::string yaml = "lb:\n  upstreams:\n    - name: web\n      discovery: " + std::string(discovery) + "\n";
    EXPECT_THAT(error_of(yaml), StartsWith(std::string("lb.yaml:4: ") + message)) << discovery;
  }
}

TEST(LbConfig, ReportsMalformedYamlAtItsLine) {
  EXPECT_THAT(error_of("lb:\n  upstreams: [\n    {name: a,\n"),
              StartsWith("lb.yaml:4: invalid YAML:"));
  EXPECT_THAT(error_of("lb:\n  a: b\n c: d\n"), StartsWith("lb.yaml:3: invalid YAML:"));
  EXPECT_THAT(error_of("lb: {a: \"x}\n"), HasSubstr("invalid YAML"));
}

TEST(LbConfig, RejectsDeepNestingBeforeParsing) {
  std::string deep = "lb:\n  x: " + std::string(100'000, '[');
  EXPECT_THAT(error_of(deep), StartsWith("lb.yaml:2: nesting deeper than 64 levels"));
  EXPECT_THAT(error_of("lb:\n  x: " + std::string(60, '{')), HasSubstr("invalid YAML"));
}

TEST(LbConfig, RejectsDeepIndentation) {
  std::string deep = "lb:\n";
  for (int i = 1; i <= 1000; ++i) deep += std::string(i, ' ') + "k:\n";
  EXPECT_THAT(error_of(deep), HasSubstr(": nesting too deep"));
}

TEST(LbConfig, RejectsOversizedText) {
  std::string big = "lb:\n  x: \"" + std::string(core::kMaxConfigBytes, 'a') + "\"\n";
  EXPECT_THAT(error_of(big), StartsWith("lb.yaml:0: file is larger than 1 MiB"));
}

TEST(LbConfig, SelfReferentialAliasIsAnErrorNotACrash) {
  EXPECT_THAT(error_of("lb: &a {upstreams: *a}\n"),
              StartsWith("lb.yaml:1: lb.upstreams: expected a list"));
  EXPECT_THAT(error_of("lb:\n  upstreams: &a [*a]\n"),
              StartsWith("lb.yaml:2: lb.upstreams[0]: expected a map"));
}

// The helpers other roles reuse for their own sections.
TEST(YamlUtil, ReadsTypedValuesWithDefaults) {
  const YAML::Node n = core::parse_yaml("x: {a: 5, b: yes, c: 250ms, d: 16k, e: hi}\n", "t.yaml");
  core::YamlMap m(n["x"], "t.yaml", "x", {"a", "b", "c", "d", "e", "f"});
  EXPECT_EQ(m.int_or("a", 0, 0, 10), 5);
  EXPECT_TRUE(m.bool_or("b", false));
  EXPECT_EQ(m.duration_or("c", milliseconds(0), milliseconds(0), milliseconds(1000)),
            milliseconds(250));
  EXPECT_EQ(m.size_or("d", 0, 0, 1 << 20), 16u * 1024);
  EXPECT_EQ(m.string_or("e", ""), "hi");
  EXPECT_EQ(m.string_or("f", "dflt"), "dflt");
  EXPECT_EQ(m.int_or("f", 7, 0, 10), 7);
  EXPECT_FALSE(m.has("f"));
  EXPECT_EQ(m.line(), 1);
}

TEST(YamlUtil, ReportsRequiredKeyAtMapLine) {
  const YAML::Node n = core::parse_yaml("a: 1\nx:\n  b: 2\n", "t.yaml");
  core::YamlMap m(n["x"], "t.yaml", "x", {"b", "name"});
  EXPECT_EQ(test::error_of([&] { (void)m.required("name"); }), "t.yaml:3: x: missing key name");
}

TEST(YamlUtil, ReadsFreeFormMapsInOrder) {
  const YAML::Node n = core::parse_yaml("d:\n  b.example: 1\n  a.example: {x: 2}\n", "t.yaml");
  auto entries = core::YamlValue(n["d"], "t.yaml", "d").as_entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, "b.example");
  EXPECT_EQ(entries[0].second.as_int(0, 9), 1);
  EXPECT_EQ(entries[1].second.path, "d.a.example");
  EXPECT_EQ(entries[1].second.line, 3);
  const YAML::Node dup = core::parse_yaml("d: {a: 1, a: 2}\n", "t.yaml");
  EXPECT_THROW(core::YamlValue(dup["d"], "t.yaml", "d").as_entries(), core::ConfigError);
}

TEST(YamlUtil, ValidatesAddresses) {
  EXPECT_EQ(core::address_problem("127.0.0.1:80"), "");
  EXPECT_EQ(core::address_problem("[::1]:80"), "");
  EXPECT_EQ(core::address_problem("example.com:443"), "");
  EXPECT_NE(core::address_problem("example.com"), "");
  EXPECT_NE(core::address_problem("1.2.3.4:0"), "");
  EXPECT_NE(core::address_problem("[::1]:65536"), "");
  EXPECT_NE(core::address_problem("::1:80"), "");
  EXPECT_NE(core::address_problem("1.2.3:80"), "");
}

}  // namespace
}  // namespace failover::lb
