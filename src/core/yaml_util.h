#pragma once
// Reading YAML configuration with the line of every offending node, so that
// each role reports a bad file as "file:line: what is wrong" (ConfigError).
// Every helper below throws core::ConfigError and nothing else; yaml-cpp's own
// exceptions are converted. Lines are 1-based (yaml-cpp counts from 0).
//
// Typical use, one YamlMap per YAML mapping:
//   core::YamlMap m(node, file, "lb.upstreams[0].retry", {"tries", "timeout"});
//   retry.tries = m.int_or("tries", 3, 1, 10);
#include <yaml-cpp/yaml.h>

#include "core/config_error.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace failover::core {

// Larger files are refused before parsing: no config needs them, and they
// only give a fuzzer or a wrong --config path room to exhaust memory.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;
// yaml-cpp recurses once per level of nesting. Its own guard (500 levels)
// covers indentation; brackets are bounded far lower before yaml-cpp runs,
// since no config needs more and "[[[[..." is the cheapest deep input.
inline constexpr int kMaxYamlNesting = 64;

// The whole file, at most kMaxConfigBytes. A file that cannot be read is
// reported at line 0: "path:0: cannot read file: No such file or directory".
std::string read_config_file(const std::string& path);

// Parses the first document of `text`. Malformed or too deeply nested YAML
// is reported at the line yaml-cpp gives, text over kMaxConfigBytes at line 0.
// An empty document gives a null node.
YAML::Node parse_yaml(const std::string& text, const std::string& file);

// 1-based line of `node`, or 0 when yaml-cpp knows none (absent or empty).
int yaml_line(const YAML::Node& node);

// "a map", "a list", "a scalar", "nothing": for "expected X, got Y" messages.
const char* yaml_kind(const YAML::Node& node);

// Throws ConfigError(file, line, what).
[[noreturn]] void fail_config(const std::string& file, int line, const std::string& what);

// One value, known by `path` (e.g. "lb.threads") in messages, at `line`.
// Scalars are read as written: "0x10", "1e3" and "+5" are not integers.
struct YamlValue {
  YAML::Node node;
  std::string file;
  std::string path;
  int line;  // where to report; the key's line when the value is empty

  YamlValue(YAML::Node n, std::string f, std::string p, int l = 0)
      : node(std::move(n)), file(std::move(f)), path(std::move(p)), line(l ? l : yaml_line(node)) {}
  YamlValue(const YamlValue&) = default;
  // yaml-cpp's Node::operator= writes through to the document instead of
  // rebinding, so assigning a YamlValue would silently edit the config.
  YamlValue& operator=(const YamlValue&) = delete;

  [[noreturn]] void fail(const std::string& what) const;  // "path: what" at line

  std::string as_string() const;  // any scalar; a map, list or null is an error
  long long as_int(long long min, long long max) const;
  bool as_bool() const;  // true/false, yes/no, on/off
  // Integer milliseconds or a number with a unit (core::parse_duration).
  std::chrono::milliseconds as_duration(std::chrono::milliseconds min,
                                        std::chrono::milliseconds max) const;
  // Bytes or a number with a binary unit (core::parse_size).
  std::uint64_t as_size(std::uint64_t min, std::uint64_t max) const;
  // The elements of a list; throws unless it is one.
  std::vector<YamlValue> as_list() const;
  // A scalar becomes a list of one, for keys that accept either.
  std::vector<YamlValue> as_list_or_scalar() const;
  // A map with keys chosen by the user (dns domains, store peers), in file
  // order; keys must be scalars and appear once.
  std::vector<std::pair<std::string, YamlValue>> as_entries() const;
};

// A YAML mapping whose keys are checked against the expected ones when it is
// built: a typo is reported as "path: unknown key intreval (expected one of:
// interval, rise, ...)" at the key's line, and a key written twice as an
// error rather than silently taking one of the two values.
class YamlMap {
 public:
  YamlMap(const YAML::Node& node, const std::string& file, std::string path,
          std::initializer_list<std::string_view> expected);
  // Same, built from a value already read (e.g. a list element).
  YamlMap(const YamlValue& value, std::initializer_list<std::string_view> expected)
      : YamlMap(value.node, value.file, value.path, expected, value.line) {}

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // The value under `key`; required() throws "path: missing key" when absent.
  YamlValue required(std::string_view key) const;
  // Throws "path.key: what" at the key's line (the map's when absent).
  [[noreturn]] void fail(std::string_view key, const std::string& what) const;
  // Throws "path: what" at the map's line.
  [[noreturn]] void fail(const std::string& what) const;

  // Optional keys: `fallback` when absent, else the checked value.
  std::string string_or(std::string_view key, std::string fallback) const;
  template <class Int>
  Int int_or(std::string_view key, Int fallback, Int min, Int max) const {
    const Entry* e = find(key);
    return e ? static_cast<Int>(value(*e).as_int(min, max)) : fallback;
  }
  bool bool_or(std::string_view key, bool fallback) const;
  std::chrono::milliseconds duration_or(std::string_view key, std::chrono::milliseconds fallback,
                                        std::chrono::milliseconds min,
                                        std::chrono::milliseconds max) const;
  std::uint64_t size_or(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                        std::uint64_t max) const;

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    int line;  // of the value; of the key when empty, as an empty value's mark points past it
  };
  YamlMap(const YAML::Node& node, const std::string& file, std::string path,
          std::initializer_list<std::string_view> expected, int line);
  const Entry* find(std::string_view key) const;
  YamlValue value(const Entry& e) const;

  std::string file_;
  std::string path_;
  int line_;
  std::vector<Entry> entries_;
};

// The `name:` section of a role's config file; other roles' sections may
// share the file. Missing, duplicated or not in a map: ConfigError.
YamlValue config_section(const std::string& text, const std::string& file, const std::string& name);

// parse(config_section(...)), with any yaml-cpp exception that escapes the
// helpers here (a backstop for direct node access) turned into a
// ConfigError at its line. Every role's config loader is this.
template <class Parse>
auto parse_section(const std::string& text, const std::string& file, const std::string& name,
                   Parse parse) {
  try {
    return parse(config_section(text, file, name));
  } catch (const YAML::Exception& e) {
    throw ConfigError(file, e.mark.line >= 0 ? e.mark.line + 1 : 1, "invalid YAML: " + e.msg);
  }
}

// Shared rules for "host:port" values in any role's config: host is an IPv4
// literal, an IPv6 literal in brackets ("[::1]:80") or a DNS name; port is
// 1..65535. Returns an empty string when valid, else what is wrong.
std::string address_problem(std::string_view address);

// Names of upstreams, services and nodes end up in metrics labels, admin URLs
// and logs, so they stay plain: 1 to 64 letters, digits, '_', '-' or '.'.
bool plain_name(std::string_view name);
inline constexpr const char* kPlainNameRule = "must be 1 to 64 letters, digits, '_', '-' or '.'";

}  // namespace failover::core
