#include "lb/nginx_config.h"

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "core/config_error.h"
#include "core/units.h"
#include "core/yaml_util.h"
#include "health/check_yaml.h"
#include "lb/nginx_syntax.h"

namespace failover::lb {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kMaxServers = 64;  // same bounds as the YAML reader
constexpr int kMaxWeight = 1000;
// Every server_name times every location: bounded so that a hostile file
// cannot multiply its way to gigabytes.
constexpr std::size_t kMaxRoutes = 10'000;

// nginx time values: "10s", "1m30s", "500ms"; a bare number is in `bare`
// units. nginx itself reads bare numbers as seconds, but the check module
// reads its interval= and timeout= as milliseconds, so callers choose.
std::optional<milliseconds> parse_nginx_time(std::string_view s, milliseconds bare) {
  constexpr long long kLimit = 10LL * 365 * 24 * 3'600'000;  // as core::parse_duration
  if (s.empty()) return std::nullopt;
  long long total = 0;
  bool first = true;
  while (!s.empty()) {
    long long n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr == s.data() || n < 0 || n > kLimit) return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(ptr - s.data()));
    constexpr std::pair<std::string_view, long long> kUnits[] = {
        {"ms", 1},        {"s", 1000},       {"m", 60'000},
        {"h", 3'600'000}, {"d", 86'400'000}, {"w", 604'800'000}};
    long long factor = s.empty() && first ? bare.count() : 0;
    for (auto [unit, f] : kUnits) {
      if (factor == 0 && s.starts_with(unit)) {
        factor = f;
        s.remove_prefix(unit.size());
      }
    }
    if (factor == 0) return std::nullopt;
    if (n > (kLimit - total) / factor) return std::nullopt;
    total += n * factor;
    first = false;
  }
  return milliseconds(total);
}

class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) { config_.source = file; }

  LbConfig finish(std::vector<Directive> top) {
    walk(top);
    if (config_.upstreams.empty()) {
      fail(1, std::string("no upstream blocks found") +
                  (saw_include_ ? " (include directives are not followed)" : ""));
    }
    for (const auto& [name, line] : regex_routes_) {
      if (upstreams_.contains(name)) {
        fail(line, "proxy_pass to upstream " + name +
                       " in a regex location: routes match path prefixes only");
      }
    }
    std::set<std::pair<std::string, std::string>> seen;
    // Upstreams may be defined after the server blocks naming them; a
    // proxy_pass to anything else (an address, a variable) is not ours.
    for (RouteConfig& r : routes_) {
      if (upstreams_.contains(r.upstream) && seen.emplace(r.host, r.path).second) {
        config_.routes.push_back(std::move(r));
      }
    }
    return std::move(config_);
  }

 private:
  [[noreturn]] void fail(int line, const std::string& what) const {
    core::fail_config(file_, line, what);
  }

  void walk(const std::vector<Directive>& ds) {
    for (const Directive& d : ds) {
      if (d.name == "include") saw_include_ = true;
      if (d.name == "upstream" && d.block) {
        read_upstream(d);
      } else if (d.name == "server" && d.block) {
        read_virtual_server(d);
      } else if (d.block) {
        walk(d.children);
      }
    }
  }

  int number(const Token& t, std::string_view key, std::string_view value, int min, int max) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || n < min ||
        n > max) {
      fail(t.line, std::string(key) + " must be an integer between " + std::to_string(min) +
                       " and " + std::to_string(max));
    }
    return n;
  }

  milliseconds time(const Token& t, std::string_view key, std::string_view value, milliseconds bare,
                    milliseconds min, milliseconds max) {
    auto d = parse_nginx_time(value, bare);
    if (!d || *d < min || *d > max) {
      fail(t.line, std::string(key) + " must be a time between " + core::format_duration(min) +
                       " and " + core::format_duration(max));
    }
    return *d;
  }

  [[noreturn]] void unknown_parameter(const Directive& d, const Token& t) const {
    // A missing ';' glues the next line's directive onto this one.
    fail(t.line, "unknown parameter \"" + t.text + "\" in \"" + d.name + "\"" +
                     (t.line > d.line ? " (missing ';' on a line before?)" : ""));
  }

  void read_upstream(const Directive& d) {
    if (d.args.size() != 1) fail(d.line, "upstream needs exactly one name");
    UpstreamConfig u;
    u.name = d.args[0].text;
    u.line = d.line;
    if (!core::plain_name(u.name)) {
      fail(d.args[0].line, "upstream name " + std::string(core::kPlainNameRule));
    }
    auto [first, fresh] = upstreams_.emplace(u.name, d.line);
    if (!fresh) {
      fail(d.line, "duplicate upstream " + u.name + " (first on line " +
                       std::to_string(first->second) + ")");
    }
    bool has_check = false;
    for (const Directive& c : d.children) {
      if (c.block) fail(c.line, "unexpected block \"" + c.name + "\" in upstream");
      if (c.name == "server") {
        read_server(c, u);
      } else if (c.name == "check") {
        if (has_check) fail(c.line, "duplicate check directive");
        has_check = true;
        read_check(c, u.check);
      } else if (c.name == "check_http_send") {
        read_http_send(c, u.check);
      } else if (c.name == "check_http_expect_alive") {
        u.check.expect = 0;
        for (const Token& a : c.args) {
          auto cls = health::parse_status_class(a.text);
          if (!cls) fail(a.line, "unknown status class \"" + a.text + "\" (expected http_2xx...)");
          u.check.expect |= *cls;
        }
        if (u.check.expect == 0) fail(c.line, "check_http_expect_alive needs a status class");
      } else if (c.name == "least_conn") {
        u.balance = Balance::kLeastConn;
      } else if (c.name == "random") {
        // "random two [method]" picks the better of two: our p2c.
        u.balance = c.args.empty() ? Balance::kRandom : Balance::kP2C;
      } else if (c.name == "ip_hash" || c.name == "hash" || c.name == "sticky") {
        fail(c.line, c.name + " is not supported (use round_robin, random, least_conn or p2c)");
      } else {
        // keepalive, zone, keepalive_timeout...: they tune nginx itself.
        // Said, not silently dropped, so nobody relies on one by mistake.
        config_.warnings.push_back(file_ + ":" + std::to_string(c.line) + ": " + c.name +
                                   " tunes nginx itself; failover lb ignores it");
      }
    }
    if (u.servers.empty()) fail(d.line, "upstream " + u.name + " has no servers");
    config_.upstreams.push_back(std::move(u));
  }

  void read_server(const Directive& d, UpstreamConfig& u) {
    if (d.args.empty()) fail(d.line, "server needs an address");
    const Token& a = d.args[0];
    ServerConfig s;
    s.line = d.line;
    s.address = a.text;
    if (s.address.starts_with("unix:")) fail(a.line, "unix sockets are not supported");
    bool bracketed = s.address.starts_with('[');
    if ((bracketed && s.address.find("]:") == std::string::npos) ||
        (!bracketed && s.address.find(':') == std::string::npos)) {
      s.address += ":80";  // nginx's default port
    }
    if (std::string p = core::address_problem(s.address); !p.empty()) {
      fail(a.line, "bad address \"" + a.text + "\": " + p);
    }
    for (std::size_t i = 1; i < d.args.size(); ++i) {
      const Token& t = d.args[i];
      auto eq = t.text.find('=');
      std::string_view key = std::string_view(t.text).substr(0, eq);
      std::string_view value =
          eq == std::string::npos ? std::string_view() : std::string_view(t.text).substr(eq + 1);
      if (key == "weight" && eq != std::string::npos) {
        s.weight = number(t, key, value, 1, kMaxWeight);
      } else if (key == "max_fails" && eq != std::string::npos) {
        s.max_fails = number(t, key, value, 0, health::kMaxPassiveFails);
      } else if (key == "fail_timeout" && eq != std::string::npos) {
        s.fail_timeout =
            time(t, key, value, milliseconds(1000), milliseconds(1), health::kMaxFailTimeout);
      } else if (key == "max_conns" && eq != std::string::npos) {
        s.max_conns = number(t, key, value, 0, 1'000'000);
      } else if (t.text == "backup") {
        s.backup = true;
      } else if (t.text == "down") {
        s.down = true;
      } else {
        unknown_parameter(d, t);
      }
    }
    for (const ServerConfig& other : u.servers) {
      if (other.address == s.address) {
        fail(d.line, "duplicate server " + s.address + " (also on line " +
                         std::to_string(other.line) + ")");
      }
    }
    if (u.servers.size() == kMaxServers) {
      fail(d.line, "more than " + std::to_string(kMaxServers) + " servers in one upstream");
    }
    u.servers.push_back(std::move(s));
  }

  void read_check(const Directive& d, health::CheckConfig& c) {
    // The check module's defaults, not ours: a file moved over from nginx
    // keeps probing exactly as it did there.
    c.enabled = true;
    c.interval = milliseconds(30'000);
    c.rise = 2;
    c.fall = 5;
    c.timeout = milliseconds(1000);
    c.type = health::CheckType::kTcp;
    c.initial_up = false;  // the module's default_down=true: servers start down until rise checks pass
    for (const Token& t : d.args) {
      auto eq = t.text.find('=');
      if (eq == std::string::npos) unknown_parameter(d, t);
      std::string_view key = std::string_view(t.text).substr(0, eq);
      std::string_view value = std::string_view(t.text).substr(eq + 1);
      if (key == "interval") {
        c.interval = time(t, key, value, milliseconds(1), health::kMinCheckInterval,
                          health::kMaxCheckInterval);
      } else if (key == "timeout") {
        c.timeout = time(t, key, value, milliseconds(1), milliseconds(1), health::kMaxCheckTimeout);
      } else if (key == "rise") {
        c.rise = number(t, key, value, 1, health::kMaxRiseFall);
      } else if (key == "fall") {
        c.fall = number(t, key, value, 1, health::kMaxRiseFall);
      } else if (key == "type") {
        if (value != "tcp" && value != "http") {
          fail(t.line, "check type \"" + std::string(value) + "\" is not supported (tcp or http)");
        }
        c.type = value == "tcp" ? health::CheckType::kTcp : health::CheckType::kHttp;
      } else if (key == "default_down") {
        if (value != "true" && value != "false") fail(t.line, "default_down must be true or false");
        c.initial_up = value == "false";
      } else if (key == "port") {
        c.port = number(t, key, value, 0, 65535);  // 0, the module's default: the server's own port
      } else {
        unknown_parameter(d, t);
      }
    }
  }

  void read_http_send(const Directive& d, health::CheckConfig& c) {
    if (d.args.size() != 1) fail(d.line, "check_http_send needs one quoted request");
    c.raw_request = d.args[0].text;
    // "GET /health HTTP/1.0\r\n...": the path is still needed for logs and /status.
    std::string_view line = c.raw_request;
    line = line.substr(0, line.find_first_of("\r\n"));
    auto sp = line.find(' ');
    std::string_view rest = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    std::string_view uri = rest.substr(0, rest.find(' '));
    if (sp == 0 || !uri.starts_with('/')) {
      fail(d.args[0].line,
           "check_http_send must start with a request line: \"GET /path HTTP/1.0\"");
    }
    c.uri = std::string(uri);
  }

  void read_virtual_server(const Directive& d) {
    std::vector<std::string> hosts;
    for (const Directive& c : d.children) {
      if (c.name == "listen" && !c.args.empty() && !listen_set_) read_listen(c.args[0]);
      if (c.name != "server_name") continue;
      for (const Token& t : c.args) {
        // Routes match a Host exactly; wildcards and regexes fall back to "*".
        bool exact = !t.text.empty() && t.text != "_" && t.text[0] != '~' && t.text[0] != '.' &&
                     t.text.find('*') == std::string::npos;
        hosts.push_back(exact ? t.text : "*");
      }
    }
    if (hosts.empty()) hosts.push_back("*");
    read_locations(d.children, hosts);
  }

  void read_listen(const Token& t) {
    std::string a = t.text;
    if (a.starts_with("unix:")) return;
    if (!a.empty() && a.find_first_not_of("0123456789") == std::string::npos) {
      a = "0.0.0.0:" + a;  // nginx listens on every address for a bare port
    } else if (a.starts_with("*:")) {
      a = "0.0.0.0" + a.substr(1);
    } else if ((a.starts_with('[') && a.find("]:") == std::string::npos) ||
               (!a.starts_with('[') && a.find(':') == std::string::npos)) {
      a += ":80";
    }
    if (std::string p = core::address_problem(a); !p.empty()) {
      fail(t.line, "bad listen address \"" + t.text + "\": " + p);
    }
    config_.listen = a;
    listen_set_ = true;
  }

  void read_locations(const std::vector<Directive>& ds, const std::vector<std::string>& hosts) {
    for (const Directive& d : ds) {
      if (d.name != "location" || !d.block || d.args.empty()) continue;
      const std::string& modifier = d.args.size() > 1 ? d.args[0].text : "";
      const std::string& path = d.args.back().text;
      // "= /path" (exact match) becomes a prefix route: close enough for a
      // proxy_pass, and routes have no exact form.
      bool regex = modifier == "~" || modifier == "~*";
      for (const Directive& c : d.children) {
        if (c.name != "proxy_pass" || c.args.size() != 1) continue;
        // "http://NAME/prefix": nginx's URI rewriting has no equivalent; the
        // route keeps the location's path and forwards the request as is.
        std::string_view url = c.args[0].text;
        auto scheme = url.find("://");
        if (scheme == std::string_view::npos) continue;
        url.remove_prefix(scheme + 3);
        std::string name(url.substr(0, url.find('/')));
        if (regex || !path.starts_with('/')) {
          // Only an error when it names an upstream; checked in finish().
          if (regex) regex_routes_.emplace(name, c.line);
          continue;
        }
        for (const std::string& host : hosts) {
          if (routes_.size() == kMaxRoutes) {
            fail(c.line, "more than " + std::to_string(kMaxRoutes) + " routes");
          }
          routes_.push_back({host, path, name, c.line});
        }
      }
      read_locations(d.children, hosts);
    }
  }

  std::string file_;
  LbConfig config_;
  std::map<std::string, int> upstreams_;  // name -> line
  std::vector<RouteConfig> routes_;       // proxy_pass targets not yet known to be upstreams
  std::multimap<std::string, int> regex_routes_;
  bool listen_set_ = false;
  bool saw_include_ = false;
};

}  // namespace

LbConfig parse_nginx_config(const std::string& text, const std::string& file_name) {
  if (text.size() > core::kMaxConfigBytes) {
    core::fail_config(file_name, 0, "file is larger than 1 MiB");
  }
  std::vector<Directive> top = parse_nginx_syntax(text, file_name);
  return Reader(file_name).finish(std::move(top));
}

LbConfig load_nginx_config(const std::string& path) {
  return parse_nginx_config(core::read_config_file(path), path);
}

}  // namespace failover::lb
