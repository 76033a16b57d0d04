#include "health/check_yaml.h"

#include <algorithm>
#include <string>

namespace failover::health {

using std::chrono::milliseconds;

std::optional<unsigned> parse_status_class(std::string_view name) {
  if (name.starts_with("http_")) name.remove_prefix(5);
  if (name.size() != 3 || name[0] < '1' || name[0] > '5' || (name[1] != 'x' && name[1] != 'X') ||
      (name[2] != 'x' && name[2] != 'X')) {
    return std::nullopt;
  }
  return 1u << (name[0] - '0');
}

bool safe_in_request(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

CheckConfig parse_check_yaml(const core::YamlValue& value, bool initial_up) {
  core::YamlMap m(
      value, {"enabled", "interval", "rise", "fall", "timeout", "type", "uri", "expect", "host",
              "port", "initial", "fast_interval", "down_interval"});
  CheckConfig c;
  c.initial_up = initial_up;
  c.enabled = m.bool_or("enabled", true);
  c.interval = m.duration_or("interval", c.interval, kMinCheckInterval, kMaxCheckInterval);
  c.rise = m.int_or("rise", c.rise, 1, kMaxRiseFall);
  c.fall = m.int_or("fall", c.fall, 1, kMaxRiseFall);
  c.timeout = m.duration_or("timeout", c.timeout, milliseconds(1), kMaxCheckTimeout);
  c.fast_interval =
      m.duration_or("fast_interval", c.interval, kMinCheckInterval, kMaxCheckInterval);
  c.down_interval =
      m.duration_or("down_interval", c.interval, kMinCheckInterval, kMaxCheckInterval);
  c.port = m.int_or("port", 0, 1, 65535);
  if (m.has("initial")) {
    const std::string initial = m.required("initial").as_string();
    if (initial != "up" && initial != "down") m.fail("initial", "must be up or down");
    c.initial_up = initial == "up";
  }
  if (m.has("type")) {
    std::string type = m.required("type").as_string();
    if (type == "tcp") {
      c.type = CheckType::kTcp;
    } else if (type == "http") {
      c.type = CheckType::kHttp;
    } else {
      m.fail("type", "must be tcp or http");
    }
  }
  if (m.has("uri")) {
    c.uri = m.required("uri").as_string();
    if (!c.uri.starts_with('/')) m.fail("uri", "must start with '/'");
    if (!safe_in_request(c.uri)) m.fail("uri", "must not contain spaces or control characters");
  }
  c.host = m.string_or("host", "");
  if (!safe_in_request(c.host)) m.fail("host", "must not contain spaces or control characters");
  if (m.has("expect")) {
    c.expect = 0;
    for (const core::YamlValue& v : m.required("expect").as_list_or_scalar()) {
      auto cls = parse_status_class(v.as_string());
      if (!cls) v.fail("expected a status class such as 2xx or 3xx");
      c.expect |= *cls;
    }
    if (c.expect == 0) m.fail("expect", "needs at least one status class");
  }
  return c;
}

PassiveConfig parse_passive_yaml(const core::YamlValue& value) {
  core::YamlMap m(value, {"max_fails", "fail_timeout", "max_ejection"});
  PassiveConfig p;
  p.max_fails = m.int_or("max_fails", p.max_fails, 0, kMaxPassiveFails);
  p.fail_timeout = m.duration_or("fail_timeout", p.fail_timeout, milliseconds(1), kMaxFailTimeout);
  if (m.has("max_ejection")) {
    p.max_ejection =
        m.duration_or("max_ejection", p.max_ejection, milliseconds(1), kMaxFailTimeout);
    if (p.max_ejection < p.fail_timeout) {
      m.fail("max_ejection", "must not be shorter than fail_timeout");
    }
  } else {
    // The first ejection lasts fail_timeout; the default cap must not cut it.
    p.max_ejection = std::max(p.max_ejection, p.fail_timeout);
  }
  return p;
}

}  // namespace failover::health
