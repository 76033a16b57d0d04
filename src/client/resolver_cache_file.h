#pragma once
// The resolver's persisted last-known-good answers: one JSON file,
//   {"version":1,"hosts":{"www.example.com":
//      {"ips":["127.0.0.11"],"ipsv6":[],"ttl":60,"fetched_unix_ms":1700000000000}}}
// Times are wall-clock (a steady clock means nothing to the next process),
// so the age of an entry is judged against the system clock at load.
// Plain functions, no Asio; the fuzz build links the parser.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/httpdns_reply.h"
#include "core/result.h"

namespace failover::client {

struct PersistedEntry {
  std::string host;  // normalize_host() form
  HostAnswer answer;
  std::int64_t fetched_unix_ms = 0;  // when the HTTPDNS server gave it
  bool operator==(const PersistedEntry&) const = default;
};

// A file larger than this is not one the resolver wrote: refused unread.
inline constexpr std::size_t kMaxCacheFileSize = 16 * 1024 * 1024;

std::string serialize_cache_file(const std::vector<PersistedEntry>& entries);

// The whole file or nothing: an entry that does not hold (bad host, bad
// address, no address) makes the file unusable (kInvalid, saying why), since
// a file that was half-written or edited by hand is not one to trust
// answers from.
core::Result<std::vector<PersistedEntry>> parse_cache_file(std::string_view text);

// Writes `content` to `path` so that a reader sees the old file or the new
// one, never a part: a temporary file beside it, fsync, rename. On failure
// (kUnavailable, saying which step failed) the old file is untouched.
core::Result<void> write_file_atomically(const std::string& path, std::string_view content);

// Reads at most `max_size` bytes: the content, or nullopt when there is no
// such file (a normal first start). kUnavailable when it cannot be read,
// kInvalid when it is larger than `max_size`.
core::Result<std::optional<std::string>> read_small_file(const std::string& path, std::size_t max_size);

}  // namespace failover::client
