#pragma once
// The resolver's persisted last-known-good answers: one JSON file,
//   {"version":1,"hosts":{"www.example.com":
//      {"ips":["127.0.0.11"],"ipsv6":[],"ttl":60,"fetched_unix_ms":1700000000000}}}
// Times are wall-clock (a steady clock means nothing to the next process),
// so the age of an entry is judged against the system clock at load.
// Plain functions, no Asio; the fuzz build links the parser.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/httpdns_reply.h"

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

struct CacheFileParse {
  std::vector<PersistedEntry> entries;
  std::string error;  // set when the file as a whole is unusable; `entries` is then empty
  bool ok() const { return error.empty(); }
};

// The whole file or nothing: an entry that does not hold (bad host, bad
// address, no address) makes the file unusable, since a file that was
// half-written or edited by hand is not one to trust answers from.
CacheFileParse parse_cache_file(std::string_view text);

// Writes `content` to `path` so that a reader sees the old file or the new
// one, never a part: a temporary file beside it, fsync, rename. "" on
// success, else what failed (the old file is then untouched).
std::string write_file_atomically(const std::string& path, std::string_view content);

// Reads at most `max_size` bytes. `missing` is set (and "" returned with an
// empty error) when there is no such file, a normal first start.
std::string read_small_file(const std::string& path, std::size_t max_size, bool& missing, std::string& error);

}  // namespace failover::client
