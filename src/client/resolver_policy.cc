#include "client/resolver_policy.h"

#include <algorithm>

namespace failover::client {

namespace {

// `from` minus `avoid` and duplicates, shuffled, appended to `out`.
void append_shuffled(const std::vector<std::string>& from, const std::vector<std::string>& avoid,
                     std::mt19937_64& rng, std::vector<std::string>& out) {
  std::vector<std::string> pool;
  for (const auto& ip : from)
    if (std::find(avoid.begin(), avoid.end(), ip) == avoid.end() &&
        std::find(pool.begin(), pool.end(), ip) == pool.end() &&
        std::find(out.begin(), out.end(), ip) == out.end())
      pool.push_back(ip);
  std::shuffle(pool.begin(), pool.end(), rng);
  out.insert(out.end(), pool.begin(), pool.end());
}

}  // namespace

std::vector<std::string> connect_order(const std::vector<std::string>& ips,
                                       const std::vector<std::string>& ipsv6,
                                       const std::vector<std::string>& avoid, std::size_t max_attempts,
                                       std::mt19937_64& rng) {
  std::vector<std::string> out;
  append_shuffled(ips, avoid, rng, out);
  append_shuffled(ipsv6, avoid, rng, out);
  if (out.size() > max_attempts) out.resize(max_attempts);
  return out;
}

ServerRotation::ServerRotation(std::size_t servers, std::chrono::milliseconds backoff)
    : backoff_(backoff), failed_at_(servers, core::TimePoint::min()) {}

std::vector<std::size_t> ServerRotation::order(core::TimePoint now) const {
  const std::size_t n = failed_at_.size();
  std::vector<std::size_t> good, bad;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t idx = (current_ + i) % n;
    const bool backed_off = failed_at_[idx] != core::TimePoint::min() && now < failed_at_[idx] + backoff_;
    (backed_off ? bad : good).push_back(idx);
  }
  // Among the failed, the one that failed longest ago is likeliest back.
  std::stable_sort(bad.begin(), bad.end(),
                   [&](std::size_t a, std::size_t b) { return failed_at_[a] < failed_at_[b]; });
  good.insert(good.end(), bad.begin(), bad.end());
  return good;
}

void ServerRotation::succeeded(std::size_t server) {
  current_ = server;
  failed_at_[server] = core::TimePoint::min();
}

void ServerRotation::failed(std::size_t server, core::TimePoint now) {
  failed_at_[server] = now;
  if (server == current_ && !failed_at_.empty()) current_ = (server + 1) % failed_at_.size();
}

}  // namespace failover::client
