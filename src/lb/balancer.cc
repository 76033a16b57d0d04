#include "lb/balancer.h"

#include <algorithm>
#include <array>
#include <cassert>

namespace failover::lb {
namespace {

constexpr std::size_t kMaxServers = 64;

// A zero or negative weight would break the sums below; the caller promises
// > 0, so this only guards against a bug upstream turning into a crash.
std::int64_t weight_of(const Candidate& c) { return c.weight > 0 ? c.weight : 1; }

// a.active / a.weight < b.active / b.weight, without division.
bool less_loaded(const Candidate& a, const Candidate& b) {
  return std::uint64_t{a.active} * static_cast<std::uint64_t>(weight_of(b)) <
         std::uint64_t{b.active} * static_cast<std::uint64_t>(weight_of(a));
}

bool same_load(const Candidate& a, const Candidate& b) {
  return !less_loaded(a, b) && !less_loaded(b, a);
}

// xoshiro256** seeded through splitmix64: a few nanoseconds a number, good
// enough statistics for spreading load, and per-instance so no lock.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) by Lemire's multiply-shift; the bias is below 2^-40
  // for the totals a 64-server upstream can reach.
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::array<std::uint64_t, 4> s_{};
};

// Position of a weighted-random candidate, skipping position `skip`.
std::size_t weighted_pick(std::span<const Candidate> cs, Rng& rng, std::size_t skip) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (i != skip) total += weight_of(cs[i]);
  }
  auto r = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(total)));
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (i == skip) continue;
    r -= weight_of(cs[i]);
    if (r < 0) return i;
  }
  assert(false && "weights changed under us");
  return cs.size() - 1;
}

// nginx's smooth weighted round robin (ngx_http_upstream_get_peer). The
// current weights live by server id, so a server missing from one call (it
// was already tried, or is ejected) resumes its place when it comes back.
class SmoothWeights {
 public:
  // Picks among the positions for which `eligible` holds.
  template <typename Eligible>
  std::size_t pick(std::span<const Candidate> cs, Eligible eligible) {
    std::int64_t total = 0;
    std::size_t best = cs.size();
    for (std::size_t i = 0; i < cs.size(); ++i) {
      if (!eligible(i)) continue;
      const std::uint32_t id = cs[i].id;
      assert(id < kMaxServers);
      const std::int64_t w = weight_of(cs[i]);
      current_[id % kMaxServers] += w;
      total += w;
      if (best == cs.size() ||
          current_[id % kMaxServers] > current_[cs[best].id % kMaxServers]) {
        best = i;
      }
    }
    current_[cs[best].id % kMaxServers] -= total;
    return best;
  }

 private:
  std::array<std::int64_t, kMaxServers> current_{};
};

class RoundRobin final : public Balancer {
 public:
  std::size_t pick(std::span<const Candidate> cs) override {
    if (cs.size() == 1) return 0;
    return weights_.pick(cs, [](std::size_t) { return true; });
  }

 private:
  SmoothWeights weights_;
};

class Random final : public Balancer {
 public:
  explicit Random(std::uint64_t seed) : rng_(seed) {}
  std::size_t pick(std::span<const Candidate> cs) override {
    if (cs.size() == 1) return 0;
    return weighted_pick(cs, rng_, cs.size());
  }

 private:
  Rng rng_;
};

class LeastConn final : public Balancer {
 public:
  std::size_t pick(std::span<const Candidate> cs) override {
    if (cs.size() == 1) return 0;
    std::size_t least = 0;
    std::size_t ties = 1;
    for (std::size_t i = 1; i < cs.size(); ++i) {
      if (less_loaded(cs[i], cs[least])) {
        least = i;
        ties = 1;
      } else if (same_load(cs[i], cs[least])) {
        ++ties;
      }
    }
    if (ties == 1) return least;
    // As nginx does: weighted round robin among the equally loaded, so that
    // an idle upstream (all zero) still spreads by weight, not to the first.
    const Candidate& ref = cs[least];
    return weights_.pick(cs, [&](std::size_t i) { return same_load(cs[i], ref); });
  }

 private:
  SmoothWeights weights_;
};

// Two random choices: almost as good as least_conn, but a burst of new
// requests does not all land on the one server that just looked idle in the
// shared `active` counts.
class PowerOfTwo final : public Balancer {
 public:
  explicit PowerOfTwo(std::uint64_t seed) : rng_(seed) {}
  std::size_t pick(std::span<const Candidate> cs) override {
    if (cs.size() == 1) return 0;
    const std::size_t a = weighted_pick(cs, rng_, cs.size());
    const std::size_t b = weighted_pick(cs, rng_, a);
    return less_loaded(cs[b], cs[a]) ? b : a;
  }

 private:
  Rng rng_;
};

}  // namespace

std::unique_ptr<Balancer> make_balancer(Balance kind, std::uint64_t seed) {
  switch (kind) {
    case Balance::kRoundRobin: return std::make_unique<RoundRobin>();
    case Balance::kRandom: return std::make_unique<Random>(seed);
    case Balance::kLeastConn: return std::make_unique<LeastConn>();
    case Balance::kP2C: return std::make_unique<PowerOfTwo>(seed);
  }
  return std::make_unique<RoundRobin>();
}

}  // namespace failover::lb
