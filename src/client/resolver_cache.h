#pragma once
// The resolver's cache of HTTPDNS answers as a state machine: no I/O, no
// timers; every call takes `now`, so tests drive it with core::ManualClock.
//
// An answer is fresh for its TTL, then stale for up to `max_stale` more:
// a stale answer is still handed out while one refresh (never two for the
// same host: single flight) fetches a new one, and a failed refresh is not
// tried again before `refresh_retry`. Past ttl + max_stale the answer is
// gone and the host is a miss, which the caller must fetch in the foreground.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/httpdns_reply.h"
#include "client/resolver_cache_file.h"
#include "core/clock.h"

namespace failover::client {

struct ResolverCacheOptions {
  std::chrono::milliseconds max_stale{3'600'000};
  std::chrono::milliseconds refresh_retry{1'000};
  std::size_t max_entries = 10'000;  // beyond it the oldest answer is dropped
};

enum class Freshness { kFresh, kStale, kMiss };

struct CachedAnswer {
  HostAnswer answer;
  core::TimePoint fetched{};  // when the server gave it (for a loaded entry: now minus its age)
  std::string server;         // the HTTPDNS server it came from; "" when loaded from the file
  bool persisted = false;     // loaded from the file and not refreshed since
};

struct CacheLookup {
  Freshness freshness = Freshness::kMiss;
  std::optional<CachedAnswer> cached;  // set unless kMiss
  // The caller must now fetch the host and report with stored() or
  // fetch_failed(). Only one lookup per host gets it until then: on a miss
  // the others should wait for that fetch rather than start their own.
  bool fetch = false;
  // Time left of the TTL (fresh) or past it (stale).
  std::chrono::milliseconds ttl_left{0};
  std::chrono::milliseconds past_ttl{0};
};

// One thread (the resolver's): not thread-safe.
class ResolverCache {
 public:
  explicit ResolverCache(ResolverCacheOptions options = {}) : options_(options) {}

  // `host` in normalize_host() form.
  CacheLookup lookup(std::string_view host, core::TimePoint now);
  // A fetch gave an answer (not empty: callers never store an empty one).
  void stored(std::string_view host, HostAnswer answer, std::string server, core::TimePoint now);
  // A fetch found nothing: a stale answer stays, not refreshed again before
  // now + refresh_retry; a miss stays a miss.
  void fetch_failed(std::string_view host, core::TimePoint now);

  // Every IP of the answer failed to connect: the servers may know better
  // by now, so a fresh answer turns stale at once (still handed out, and the
  // next lookup refreshes it). A stale or missing one is left as it is.
  void mark_stale(std::string_view host, core::TimePoint now);

  // Entries of a persisted file, `wall_now_ms` being the system clock now.
  // Those older than ttl + max_stale are dropped; a future timestamp (clock
  // stepped back) counts as age 0. Entries already present are not replaced.
  void load(const std::vector<PersistedEntry>& entries, core::TimePoint now, std::int64_t wall_now_ms);
  // What to persist: every answer still within ttl + max_stale.
  std::vector<PersistedEntry> to_persist(core::TimePoint now, std::int64_t wall_now_ms) const;

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::optional<CachedAnswer> cached;  // empty: a miss whose first fetch is running
    bool fetching = false;
    core::TimePoint retry_at{};  // after a failed refresh
  };
  bool usable(const CachedAnswer& c, core::TimePoint now) const;
  void make_room();

  ResolverCacheOptions options_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace failover::client
