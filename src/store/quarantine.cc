#include "store/quarantine.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>

#include "store/text.h"

namespace failover::store {
namespace {

void put_bytes(boost::json::object& o, const char* name, std::string_view bytes) {
  if (is_valid_utf8(bytes)) {
    o[name] = bytes;
  } else {
    o[std::string(name) + "_base64"] = base64_encode(bytes);
  }
}

// The counter of "000042.jsonl", or 0 for any other name.
uint64_t counter_of(std::string_view name) {
  constexpr std::string_view kSuffix = ".jsonl";
  if (!name.ends_with(kSuffix)) return 0;
  name.remove_suffix(kSuffix.size());
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  return ec == std::errc() && end == name.data() + name.size() ? n : 0;
}

}  // namespace

std::string quarantine_lines(std::span<const Entry> entries) {
  std::string out;
  for (const Entry& e : entries) {
    boost::json::object o;
    o["epoch"] = e.epoch;
    o["seq"] = e.seq;
    o["op"] = op_name(e.op);
    put_bytes(o, "key", e.key);
    put_bytes(o, "value", e.value);
    if (!e.idempotency_key.empty()) put_bytes(o, "idempotency_key", e.idempotency_key);
    out += boost::json::serialize(o);
    out += '\n';
  }
  return out;
}

core::Result<Path> write_quarantine(FileSystem& fs, const Path& dir, std::span<const Entry> entries) {
  if (auto r = fs.create_dirs(dir); !r) return r.error();
  auto names = fs.list_dir(dir);
  if (!names) return names.error();
  uint64_t largest = 0;
  for (const std::string& name : *names) largest = std::max(largest, counter_of(name));
  char name[32];
  std::snprintf(name, sizeof name, "%06llu.jsonl", static_cast<unsigned long long>(largest + 1));
  const Path path = dir / name;
  if (auto r = write_file_atomically(fs, path, quarantine_lines(entries)); !r) return r.error();
  return path;
}

}  // namespace failover::store
