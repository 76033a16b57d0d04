#include "lb/nginx_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "support/config_error.h"

namespace failover::lb {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

LbConfig parse(const std::string& text) { return parse_nginx_config(text, "nginx.conf"); }

std::string error_of(const std::string& text) {
  return test::error_of([&] { parse(text); });
}

// `body` goes inside "upstream web {" on line 1; its first line is line 2.
std::string upstream(const std::string& body) { return "upstream web {\n" + body + "}\n"; }

const char* kFull = R"(# nginx.conf
worker_processes 1;
events { worker_connections 1024; }
http {
    upstream test_web {
        server 192.168.1.21:80 weight=2 max_fails=3 fail_timeout=10s;
        server 192.168.1.22:80 backup;
        server 192.168.1.23 down fail_timeout=30;
        server [::1]:8080 max_fails=0 fail_timeout=1m30s max_conns=100;
        keepalive 32;
        least_conn;
        check interval=3000 rise=3 fall=4 timeout=1500 type=http default_down=false port=80;
        check_http_send "HEAD /health HTTP/1.0\r\nHost: example.com\r\n\r\n";
        check_http_expect_alive http_2xx http_3xx;
    }
    upstream api { server 10.0.0.1:8080; random two least_conn; }
    server {
        listen 8080;
        server_name www.example.com _;
        location / { proxy_pass http://test_web; }
        location /api/ {
            proxy_set_header Host $host;
            proxy_pass http://api/;
        }
        location /static/ { root /var/www; }
        location /other/ { proxy_pass http://127.0.0.1:9000; }
    }
    server { listen 127.0.0.1:8081; location /x { proxy_pass http://api; } }
}
)";

TEST(NginxConfig, ParsesUpstreamBlocks) {
  LbConfig c = parse(kFull);
  EXPECT_EQ(c.source, "nginx.conf");
  ASSERT_EQ(c.upstreams.size(), 2u);
  const UpstreamConfig& u = c.upstreams[0];
  EXPECT_EQ(u.name, "test_web");
  EXPECT_EQ(u.line, 5);
  EXPECT_EQ(u.balance, Balance::kLeastConn);
  ASSERT_EQ(u.servers.size(), 4u);
  EXPECT_EQ(u.servers[0].address, "192.168.1.21:80");
  EXPECT_EQ(u.servers[0].weight, 2);
  EXPECT_EQ(u.servers[0].max_fails, 3);
  EXPECT_EQ(u.servers[0].fail_timeout, milliseconds(10'000));
  EXPECT_EQ(u.servers[0].line, 6);
  EXPECT_TRUE(u.servers[1].backup);
  EXPECT_EQ(u.servers[1].max_fails, -1);
  EXPECT_EQ(u.servers[2].address, "192.168.1.23:80");
  EXPECT_TRUE(u.servers[2].down);
  EXPECT_EQ(u.servers[2].fail_timeout, milliseconds(30'000));
  EXPECT_EQ(u.servers[3].address, "[::1]:8080");
  EXPECT_EQ(u.servers[3].max_fails, 0);
  EXPECT_EQ(u.servers[3].fail_timeout, milliseconds(90'000));
  EXPECT_TRUE(u.check.enabled);
  EXPECT_EQ(u.check.interval, milliseconds(3000));
  EXPECT_EQ(u.check.rise, 3);
  EXPECT_EQ(u.check.fall, 4);
  EXPECT_EQ(u.check.timeout, milliseconds(1500));
  EXPECT_EQ(u.check.type, health::CheckType::kHttp);
  EXPECT_EQ(u.check.raw_request, "HEAD /health HTTP/1.0\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(u.check.uri, "/health");
  EXPECT_EQ(u.check.expect, health::kStatus2xx | health::kStatus3xx);
  // nginx's own defaults: max_fails=1 fail_timeout=10s.
  EXPECT_EQ(u.passive.max_fails, 1);
  EXPECT_EQ(u.passive.fail_timeout, milliseconds(10'000));

  EXPECT_EQ(c.upstreams[1].name, "api");
  EXPECT_EQ(c.upstreams[1].balance, Balance::kP2C);
  EXPECT_FALSE(c.upstreams[1].check.enabled);
}

TEST(NginxConfig, ServerBlocksBecomeRoutes) {
  LbConfig c = parse(kFull);
  EXPECT_EQ(c.listen, "0.0.0.0:8080");
  ASSERT_EQ(c.routes.size(), 5u);
  EXPECT_EQ(c.routes[0].host, "www.example.com");
  EXPECT_EQ(c.routes[0].path, "/");
  EXPECT_EQ(c.routes[0].upstream, "test_web");
  EXPECT_EQ(c.routes[0].line, 20);
  EXPECT_EQ(c.routes[1].host, "*");
  EXPECT_EQ(c.routes[1].path, "/");
  EXPECT_EQ(c.routes[2].host, "www.example.com");
  EXPECT_EQ(c.routes[2].path, "/api/");
  EXPECT_EQ(c.routes[2].upstream, "api");
  EXPECT_EQ(c.routes[3].host, "*");
  EXPECT_EQ(c.routes[4].host, "*");
  EXPECT_EQ(c.routes[4].path, "/x");
  EXPECT_EQ(c.routes[4].upstream, "api");
}

TEST(NginxConfig, RoutesMayNameUpstreamsDefinedLater) {
  LbConfig c = parse("server { location /a/ { proxy_pass http://web; } }\n" +
                     upstream("server 127.0.0.1:1;\n"));
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].upstream, "web");
  EXPECT_EQ(c.listen, LbConfig().listen);  // no listen directive: the default stays
}

TEST(NginxConfig, ListenForms) {
  auto listen_of = [](const std::string& l) {
    return parse("server { listen " + l + "; }\n" + upstream("server 127.0.0.1:1;\n")).listen;
  };
  EXPECT_EQ(listen_of("80"), "0.0.0.0:80");
  EXPECT_EQ(listen_of("*:81"), "0.0.0.0:81");
  EXPECT_EQ(listen_of("127.0.0.1:82 default_server"), "127.0.0.1:82");
  EXPECT_EQ(listen_of("[::]:83"), "[::]:83");
  EXPECT_EQ(listen_of("127.0.0.1"), "127.0.0.1:80");
  EXPECT_THAT(error_of("server { listen 99999; }\n"),
              StartsWith("nginx.conf:1: bad listen address"));
}

TEST(NginxConfig, TimesWithoutUnitAreSecondsButCheckTimesAreMilliseconds) {
  LbConfig c =
      parse(upstream("server 127.0.0.1:1 fail_timeout=3000;\ncheck interval=3000 timeout=500;\n"));
  EXPECT_EQ(c.upstreams[0].servers[0].fail_timeout, milliseconds(3'000'000));
  EXPECT_EQ(c.upstreams[0].check.interval, milliseconds(3000));
  EXPECT_EQ(c.upstreams[0].check.timeout, milliseconds(500));
  c = parse(upstream("server 127.0.0.1:1 fail_timeout=500ms;\ncheck interval=2s timeout=1s;\n"));
  EXPECT_EQ(c.upstreams[0].servers[0].fail_timeout, milliseconds(500));
  EXPECT_EQ(c.upstreams[0].check.interval, milliseconds(2000));
}

TEST(NginxConfig, CheckTakesTheModuleDefaults) {
  LbConfig c = parse(upstream("server 127.0.0.1:1;\ncheck type=tcp;\n"));
  const health::CheckConfig& k = c.upstreams[0].check;
  EXPECT_TRUE(k.enabled);
  EXPECT_EQ(k.interval, milliseconds(30'000));
  EXPECT_EQ(k.rise, 2);
  EXPECT_EQ(k.fall, 5);
  EXPECT_EQ(k.timeout, milliseconds(1000));
  EXPECT_EQ(k.type, health::CheckType::kTcp);
  EXPECT_TRUE(k.raw_request.empty());
}

TEST(NginxConfig, BalanceDirectives) {
  EXPECT_EQ(parse(upstream("server 127.0.0.1:1;\n")).upstreams[0].balance, Balance::kRoundRobin);
  EXPECT_EQ(parse(upstream("random;\nserver 127.0.0.1:1;\n")).upstreams[0].balance,
            Balance::kRandom);
  EXPECT_EQ(parse(upstream("random two;\nserver 127.0.0.1:1;\n")).upstreams[0].balance,
            Balance::kP2C);
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\nip_hash;\n")),
              StartsWith("nginx.conf:3: ip_hash is not supported"));
  EXPECT_THAT(error_of(upstream("hash $request_uri consistent;\nserver 127.0.0.1:1;\n")),
              StartsWith("nginx.conf:2: hash is not supported"));
}

TEST(NginxConfig, TokenizerHandlesQuotesEscapesAndComments) {
  LbConfig c = parse(
      "# upstream nope { server 1.1.1.1:1; }\n"
      "upstream 'web' { # a comment { with braces\n"
      "  server \"127.0.0.1:1\"; # weight=0\n"
      "  check type=http;\n"
      "  check_http_send 'GET /a\\\\b HTTP/1.1\\r\\nX: \"q\\\"\\r\\n\\r\\n';\n"
      "  set $v a#b;\n"
      "  set ${v}x \"\";\n"
      "}\n");
  ASSERT_EQ(c.upstreams.size(), 1u);
  EXPECT_EQ(c.upstreams[0].name, "web");
  EXPECT_EQ(c.upstreams[0].servers[0].weight, 1);
  EXPECT_EQ(c.upstreams[0].check.raw_request, "GET /a\\b HTTP/1.1\r\nX: \"q\"\r\n\r\n");
  EXPECT_EQ(c.upstreams[0].check.uri, "/a\\b");
}

TEST(NginxConfig, RejectsUnbalancedBraces) {
  EXPECT_THAT(error_of("http {\n  upstream web {\n    server 127.0.0.1:1;\n"),
              StartsWith("nginx.conf:2: '{' opened here is never closed"));
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\n") + "}\n"),
              StartsWith("nginx.conf:4: unexpected '}'"));
  EXPECT_THAT(error_of("{\n"), StartsWith("nginx.conf:1: unexpected '{'"));
  EXPECT_THAT(error_of(";\n"), StartsWith("nginx.conf:1: unexpected ';'"));
}

TEST(NginxConfig, RejectsMissingSemicolon) {
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1\nserver 127.0.0.1:2;\n")),
              StartsWith("nginx.conf:3: unknown parameter \"server\" in \"server\" (missing ';'"));
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\nkeepalive 32\n")),
              StartsWith("nginx.conf:3: missing ';' after \"keepalive\""));
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\n") + "worker_processes 1"),
              StartsWith("nginx.conf:4: missing ';' after \"worker_processes\""));
}

TEST(NginxConfig, RejectsUnknownParameters) {
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1 wieght=2;\n")),
              StartsWith("nginx.conf:2: unknown parameter \"wieght=2\" in \"server\""));
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\ncheck interval=3000 foo=1;\n")),
              StartsWith("nginx.conf:3: unknown parameter \"foo=1\" in \"check\""));
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1 weight;\n")),
              StartsWith("nginx.conf:2: unknown parameter \"weight\""));
}

TEST(NginxConfig, RejectsBadValues) {
  const std::pair<const char*, const char*> cases[] = {
      {"server 127.0.0.1:1 weight=0;\n",
       "nginx.conf:2: weight must be an integer between 1 and 1000"},
      {"server 127.0.0.1:1 weight=x;\n", "nginx.conf:2: weight must be an integer"},
      {"server 127.0.0.1:1 max_fails=-1;\n",
       "nginx.conf:2: max_fails must be an integer between 0"},
      {"server 127.0.0.1:1 fail_timeout=5x;\n", "nginx.conf:2: fail_timeout must be a time"},
      {"server 127.0.0.1:99999;\n", "nginx.conf:2: bad address \"127.0.0.1:99999\""},
      {"server unix:/tmp/s;\n", "nginx.conf:2: unix sockets are not supported"},
      {"server;\n", "nginx.conf:2: server needs an address"},
      {"server 127.0.0.1:1;\ncheck rise=0;\n",
       "nginx.conf:3: rise must be an integer between 1 and 100"},
      {"server 127.0.0.1:1;\ncheck fall=101;\n",
       "nginx.conf:3: fall must be an integer between 1 and 100"},
      {"server 127.0.0.1:1;\ncheck interval=5;\n",
       "nginx.conf:3: interval must be a time between 10ms"},
      {"server 127.0.0.1:1;\ncheck timeout=0;\n",
       "nginx.conf:3: timeout must be a time between 1ms"},
      {"server 127.0.0.1:1;\ncheck type=ssl_hello;\n",
       "nginx.conf:3: check type \"ssl_hello\" is not supported"},
      {"server 127.0.0.1:1;\ncheck;\ncheck;\n", "nginx.conf:4: duplicate check directive"},
      {"server 127.0.0.1:1;\ncheck_http_send \"garbage\";\n",
       "nginx.conf:3: check_http_send must start"},
      {"server 127.0.0.1:1;\ncheck_http_expect_alive http_6xx;\n",
       "nginx.conf:3: unknown status class"},
      {"server 127.0.0.1:1;\nserver 127.0.0.1:1;\n",
       "nginx.conf:3: duplicate server 127.0.0.1:1 (also on line 2)"},
      {"server 127.0.0.1:1;\nlocation / { }\n", "nginx.conf:3: unexpected block \"location\""},
      {"", "nginx.conf:1: upstream web has no servers"},
  };
  for (auto [body, message] : cases) {
    EXPECT_THAT(error_of(upstream(body)), StartsWith(message)) << body;
  }
}

TEST(NginxConfig, RejectsMoreThan64Servers) {
  std::string body;
  for (int i = 1; i <= 65; ++i) body += "server 127.0.0.1:" + std::to_string(i) + ";\n";
  EXPECT_THAT(error_of(upstream(body)), StartsWith("nginx.conf:66: more than 64 servers"));
}

TEST(NginxConfig, RejectsDuplicateUpstream) {
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\n") + upstream("server 127.0.0.1:2;\n")),
              StartsWith("nginx.conf:4: duplicate upstream web (first on line 1)"));
  EXPECT_THAT(error_of("upstream a/b { server 127.0.0.1:1; }\n"),
              StartsWith("nginx.conf:1: upstream name must be 1 to 64 letters"));
  EXPECT_THAT(error_of("upstream a b { server 127.0.0.1:1; }\n"),
              StartsWith("nginx.conf:1: upstream needs exactly one name"));
}

TEST(NginxConfig, RejectsFileWithoutUpstreams) {
  EXPECT_THAT(error_of("http {\n  server { listen 80; }\n}\n"),
              StartsWith("nginx.conf:1: no upstream blocks found"));
  EXPECT_THAT(error_of("http { include upstreams.conf; }\n"),
              HasSubstr("include directives are not followed"));
  EXPECT_THAT(error_of(""), StartsWith("nginx.conf:1: no upstream blocks found"));
}

TEST(NginxConfig, RejectsRegexLocationToUpstream) {
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\n") +
                       "server {\n location ~ \\.php$ {\n  proxy_pass http://web;\n }\n}\n"),
              StartsWith("nginx.conf:6: proxy_pass to upstream web in a regex location"));
  // A regex location proxying elsewhere is none of our business.
  EXPECT_NO_THROW(parse(upstream("server 127.0.0.1:1;\n") +
                        "server { location ~ \\.php$ { proxy_pass http://127.0.0.1:9000; } }\n"));
}

TEST(NginxConfig, RejectsUnterminatedString) {
  EXPECT_THAT(error_of(upstream("server 127.0.0.1:1;\ncheck_http_send \"GET / HTTP/1.0;\n")),
              StartsWith("nginx.conf:3: unterminated quoted string"));
  EXPECT_THAT(error_of("upstream \"web\"x { }\n"),
              StartsWith("nginx.conf:1: unexpected character after quoted"));
}

TEST(NginxConfig, RejectsDeepNesting) {
  std::string deep;
  for (int i = 0; i < 100'000; ++i) deep += "a{";
  EXPECT_THAT(error_of(deep), StartsWith("nginx.conf:1: blocks nested deeper than 64"));
}

TEST(NginxConfig, MissingFileIsLineZero) {
  EXPECT_THAT(error_of("x"), StartsWith("nginx.conf:1: missing ';'"));
  EXPECT_THAT(test::error_of([] { load_nginx_config("/nonexistent/nginx.conf"); }),
              StartsWith("/nonexistent/nginx.conf:0: cannot read file"));
}

}  // namespace
}  // namespace failover::lb
