#include "client/resolver_cache.h"

#include <algorithm>

namespace failover::client {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

bool ResolverCache::usable(const CachedAnswer& c, core::TimePoint now) const {
  return now < c.fetched + c.answer.ttl + options_.max_stale;
}

CacheLookup ResolverCache::lookup(std::string_view host, core::TimePoint now) {
  CacheLookup out;
  auto it = entries_.find(std::string(host));
  if (it == entries_.end()) {
    make_room();
    entries_.emplace(std::string(host), Entry{std::nullopt, true, {}});
    out.fetch = true;
    return out;
  }
  Entry& e = it->second;
  if (e.cached && !usable(*e.cached, now)) e.cached.reset();  // past max_stale: forgotten
  if (!e.cached) {
    out.fetch = !e.fetching;
    e.fetching = true;
    return out;
  }
  const auto expires = e.cached->fetched + e.cached->answer.ttl;
  out.cached = e.cached;
  if (now < expires) {
    out.freshness = Freshness::kFresh;
    out.ttl_left = duration_cast<milliseconds>(expires - now);
    return out;
  }
  out.freshness = Freshness::kStale;
  out.past_ttl = duration_cast<milliseconds>(now - expires);
  if (!e.fetching && now >= e.retry_at) {
    e.fetching = true;
    out.fetch = true;
  }
  return out;
}

void ResolverCache::stored(std::string_view host, HostAnswer answer, std::string server, core::TimePoint now) {
  auto it = entries_.find(std::string(host));
  if (it == entries_.end()) {
    make_room();
    it = entries_.emplace(std::string(host), Entry{}).first;
  }
  it->second = Entry{CachedAnswer{std::move(answer), now, std::move(server), false}, false, {}};
}

void ResolverCache::fetch_failed(std::string_view host, core::TimePoint now) {
  auto it = entries_.find(std::string(host));
  if (it == entries_.end()) return;
  if (!it->second.cached) {
    entries_.erase(it);  // nothing to keep; the next lookup is a miss again
    return;
  }
  it->second.fetching = false;
  it->second.retry_at = now + options_.refresh_retry;
}

void ResolverCache::mark_stale(std::string_view host, core::TimePoint now) {
  auto it = entries_.find(std::string(host));
  if (it == entries_.end() || !it->second.cached) return;
  auto& c = *it->second.cached;
  if (now < c.fetched + c.answer.ttl) c.fetched = now - c.answer.ttl;  // max_stale counts from now
  it->second.retry_at = {};
}

void ResolverCache::load(const std::vector<PersistedEntry>& entries, core::TimePoint now,
                         std::int64_t wall_now_ms) {
  for (const auto& p : entries) {
    const milliseconds age(std::max<std::int64_t>(0, wall_now_ms - p.fetched_unix_ms));
    CachedAnswer c{p.answer, now - age, "", true};
    if (!usable(c, now) || entries_.contains(p.host)) continue;
    make_room();
    entries_.emplace(p.host, Entry{std::move(c), false, {}});
  }
}

std::vector<PersistedEntry> ResolverCache::to_persist(core::TimePoint now, std::int64_t wall_now_ms) const {
  std::vector<PersistedEntry> out;
  for (const auto& [host, e] : entries_) {
    if (!e.cached || !usable(*e.cached, now)) continue;
    const auto age = duration_cast<milliseconds>(now - e.cached->fetched).count();
    out.push_back({host, e.cached->answer, wall_now_ms - age});
  }
  // A stable order keeps the file diffable and the tests simple.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.host < b.host; });
  return out;
}

void ResolverCache::make_room() {
  if (entries_.size() < options_.max_entries || entries_.empty()) return;
  // O(n), but only when the cache is full; a process that resolves more
  // names than max_entries is not what this cache is for.
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.fetching) continue;  // someone is waiting on it
    if (oldest == entries_.end() || !it->second.cached ||
        (oldest->second.cached && it->second.cached->fetched < oldest->second.cached->fetched))
      oldest = it;
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

}  // namespace failover::client
