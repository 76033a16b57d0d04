#include "core/yaml_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/config_error.h"
#include "core/units.h"

namespace failover::core {
namespace {

// "lb.upstreams" + "check": the path of a key in messages. A whole file's
// map (a cluster file, where the sections are the keys) has the empty path.
std::string join_path(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string prefixed(const std::string& path, const std::string& what) {
  return path.empty() ? what : path + ": " + what;
}

// Values are echoed in messages; a fuzzer's megabyte-long scalar should not be.
std::string clip(std::string_view s) {
  constexpr std::size_t kMax = 40;
  return s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
}

std::string quoted(std::string_view s) {
  std::string out = "\"";  // built by appending: GCC 12 warns falsely on "\"" + string
  out += clip(s);
  out += '"';
  return out;
}

std::string format_size(std::uint64_t n) {
  constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ULL << 30, "g"}, {1ULL << 20, "m"}, {1ULL << 10, "k"}};
  for (auto [factor, unit] : kUnits) {
    if (n != 0 && n % factor == 0) return std::to_string(n / factor) + unit;
  }
  return std::to_string(n);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Bracket depth, counted without regard to quotes or comments: a legitimate
// file never comes near the bound, so over-counting costs nothing, and the
// scan cannot be fooled into under-counting by YAML's quoting rules.
void check_nesting(const std::string& text, const std::string& file) {
  int depth = 0;
  int line = 1;
  for (char c : text) {
    if (c == '\n') ++line;
    if (c == '[' || c == '{') {
      if (++depth > kMaxYamlNesting) {
        fail_config(file, line,
                    "nesting deeper than " + std::to_string(kMaxYamlNesting) + " levels of [ or {");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

bool valid_hostname(std::string_view host) {
  if (host.size() > 253 || host.front() == '.' || host.front() == '-' || host.back() == '.') {
    return false;
  }
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void fail_config(const std::string& file, int line, const std::string& what) {
  throw ConfigError(file, line, what);
}

std::string read_config_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_config(path, 0, std::string("cannot read file: ") + std::strerror(errno));
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      fail_config(path, 0, std::string("cannot read file: ") + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      ::close(fd);
      fail_config(path, 0, "file is larger than 1 MiB");
    }
  }
  ::close(fd);
  return text;
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  if (text.size() > kMaxConfigBytes) {
    fail_config(file, 0, "file is larger than 1 MiB");
  }
  check_nesting(text, file);
  try {
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // Deep indentation (rather than brackets) reaches yaml-cpp's own guard.
    fail_config(file, e.mark.line >= 0 ? e.mark.line + 1 : 1, "nesting too deep");
  } catch (const YAML::Exception& e) {
    fail_config(file, e.mark.line >= 0 ? e.mark.line + 1 : 1, "invalid YAML: " + e.msg);
  }
}

int yaml_line(const YAML::Node& node) {
  try {
    if (!node.IsDefined()) return 0;
    int line = node.Mark().line;
    return line >= 0 ? line + 1 : 0;
  } catch (const YAML::Exception&) {
    return 0;
  }
}

const char* yaml_kind(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "a scalar";
}

void YamlValue::fail(const std::string& what) const { fail_config(file, line, prefixed(path, what)); }

std::string YamlValue::as_string() const {
  if (!node.IsScalar()) fail(std::string("expected a value, got ") + yaml_kind(node));
  return node.Scalar();
}

long long YamlValue::as_int(long long min, long long max) const {
  const std::string s = as_string();
  long long n = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, n);
  if (s.empty() || ptr != end || ec == std::errc::invalid_argument) {
    fail("expected an integer, got " + quoted(s));
  }
  if (ec == std::errc::result_out_of_range || n < min || n > max) {
    fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
         quoted(s));
  }
  return n;
}

bool YamlValue::as_bool() const {
  const std::string s = lower(as_string());
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail("expected true or false, got " + quoted(node.Scalar()));
}

std::chrono::milliseconds YamlValue::as_duration(std::chrono::milliseconds min,
                                                 std::chrono::milliseconds max) const {
  const std::string s = as_string();
  auto d = parse_duration(s);
  if (!d) fail("expected a duration such as 250ms, 3s or 1m, got " + quoted(s));
  if (*d < min || *d > max) {
    fail("must be between " + format_duration(min) + " and " + format_duration(max) + ", got " +
         quoted(s));
  }
  return *d;
}

std::uint64_t YamlValue::as_size(std::uint64_t min, std::uint64_t max) const {
  const std::string s = as_string();
  auto n = parse_size(s);
  if (!n) fail("expected a size such as 512, 16k or 1m, got " + quoted(s));
  if (*n < min || *n > max) {
    fail("must be between " + format_size(min) + " and " + format_size(max) + ", got " + quoted(s));
  }
  return *n;
}

std::vector<YamlValue> YamlValue::as_list() const {
  if (!node.IsSequence()) fail(std::string("expected a list, got ") + yaml_kind(node));
  std::vector<YamlValue> out;
  std::size_t i = 0;
  for (const YAML::Node& element : node) {
    int l = yaml_line(element);
    out.emplace_back(element, file, path + "[" + std::to_string(i++) + "]",
                     element.IsNull() || l == 0 ? line : l);
  }
  return out;
}

std::vector<YamlValue> YamlValue::as_list_or_scalar() const {
  if (node.IsScalar()) return {*this};
  return as_list();
}

std::vector<std::pair<std::string, YamlValue>> YamlValue::as_entries() const {
  if (!node.IsMap()) fail(std::string("expected a map, got ") + yaml_kind(node));
  std::vector<std::pair<std::string, YamlValue>> out;
  for (const auto& kv : node) {
    const int key_line = yaml_line(kv.first) ? yaml_line(kv.first) : line;
    if (!kv.first.IsScalar()) {
      fail_config(file, key_line, path + ": keys must be plain words, got " + yaml_kind(kv.first));
    }
    const std::string& key = kv.first.Scalar();
    for (const auto& [k, v] : out) {
      if (k == key) fail_config(file, key_line, path + ": duplicate key " + clip(key));
    }
    const int value_line = kv.second.IsNull() ? 0 : yaml_line(kv.second);
    out.emplace_back(
        key, YamlValue(kv.second, file, join_path(path, key), value_line ? value_line : key_line));
  }
  return out;
}

YamlMap::YamlMap(const YAML::Node& node, const std::string& file, std::string path,
                 std::initializer_list<std::string_view> expected)
    : YamlMap(node, file, std::move(path), expected, yaml_line(node)) {}

YamlMap::YamlMap(const YAML::Node& node, const std::string& file, std::string path,
                 std::initializer_list<std::string_view> expected, int line)
    : file_(file), path_(std::move(path)), line_(line) {
  if (!node.IsMap()) fail(std::string("expected a map, got ") + yaml_kind(node));
  for (const auto& kv : node) {
    const int key_line = yaml_line(kv.first) ? yaml_line(kv.first) : line_;
    if (!kv.first.IsScalar()) {
      fail_config(file_, key_line,
                  path_ + ": keys must be plain words, got " + yaml_kind(kv.first));
    }
    const std::string& key = kv.first.Scalar();
    bool known = false;
    for (std::string_view e : expected) known = known || e == key;
    if (!known) {
      std::string list;
      for (std::string_view e : expected) list += (list.empty() ? "" : ", ") + std::string(e);
      fail_config(file_, key_line,
                  path_ + ": unknown key " + clip(key) + " (expected one of: " + list + ")");
    }
    if (find(key)) fail_config(file_, key_line, path_ + ": duplicate key " + clip(key));
    const int value_line = kv.second.IsNull() ? 0 : yaml_line(kv.second);
    entries_.push_back({key, kv.second, value_line ? value_line : key_line});
  }
}

const YamlMap::Entry* YamlMap::find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

YamlValue YamlMap::value(const Entry& e) const {
  return YamlValue(e.value, file_, join_path(path_, e.key), e.line);
}

YamlValue YamlMap::required(std::string_view key) const {
  const Entry* e = find(key);
  if (!e) fail("missing key " + std::string(key));
  return value(*e);
}

void YamlMap::fail(std::string_view key, const std::string& what) const {
  const Entry* e = find(key);
  fail_config(file_, e ? e->line : line_, join_path(path_, key) + ": " + what);
}

void YamlMap::fail(const std::string& what) const {
  fail_config(file_, line_, prefixed(path_, what));
}

std::string YamlMap::string_or(std::string_view key, std::string fallback) const {
  const Entry* e = find(key);
  return e ? value(*e).as_string() : fallback;
}

bool YamlMap::bool_or(std::string_view key, bool fallback) const {
  const Entry* e = find(key);
  return e ? value(*e).as_bool() : fallback;
}

std::chrono::milliseconds YamlMap::duration_or(std::string_view key,
                                               std::chrono::milliseconds fallback,
                                               std::chrono::milliseconds min,
                                               std::chrono::milliseconds max) const {
  const Entry* e = find(key);
  return e ? value(*e).as_duration(min, max) : fallback;
}

std::uint64_t YamlMap::size_or(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                               std::uint64_t max) const {
  const Entry* e = find(key);
  return e ? value(*e).as_size(min, max) : fallback;
}

bool plain_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string address_problem(std::string_view address) {
  if (address.empty()) return "empty address (expected host:port)";
  std::string_view host, port;
  if (address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos) return "missing ']' after IPv6 address";
    host = address.substr(1, close - 1);
    if (close + 1 >= address.size() || address[close + 1] != ':') {
      return "missing port (expected [ipv6]:port)";
    }
    port = address.substr(close + 2);
    in6_addr a6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) return "bad IPv6 address";
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return "missing port (expected host:port)";
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.empty()) return "missing host (expected host:port)";
    if (host.find(':') != std::string_view::npos) {
      return "IPv6 addresses need brackets, as in [::1]:80";
    }
    if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
      in_addr a4;
      if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1) return "bad IPv4 address";
    } else if (!valid_hostname(host)) {
      return "bad host name";
    }
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || port.size() > 5 || ptr != port.data() + port.size() || ec != std::errc() ||
      p < 1 || p > 65535) {
    return "port must be between 1 and 65535";
  }
  return "";
}

YamlValue config_section(const std::string& text, const std::string& file, const std::string& name) {
  YAML::Node root = parse_yaml(text, file);
  if (!root.IsDefined() || root.IsNull())
    fail_config(file, 1, "missing " + name + ": section (the file is empty)");
  if (!root.IsMap()) {
    fail_config(file, yaml_line(root),
                "expected a map with a " + name + ": section, got " + yaml_kind(root));
  }
  YAML::Node section;
  int key_line = 0;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar() || kv.first.Scalar() != name) continue;
    if (key_line) fail_config(file, yaml_line(kv.first), "duplicate key " + name);
    section = kv.second;
    key_line = std::max(yaml_line(kv.first), 1);
  }
  if (!key_line) fail_config(file, yaml_line(root), "missing " + name + ": section");
  const int value_line = section.IsNull() ? 0 : yaml_line(section);
  return YamlValue(section, file, name, value_line ? value_line : key_line);
}

}  // namespace failover::core
