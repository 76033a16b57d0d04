#pragma once
// Picks one server among the candidates of a request. One Balancer per worker
// thread and upstream: no locks, no shared state other than the `active`
// counts the caller passes in.
#include <cstdint>
#include <memory>
#include <span>

#include "lb/config.h"

namespace failover::lb {

struct Candidate {
  std::uint32_t id;      // the server's stable index in its upstream (< 64)
  int weight;            // effective weight (slow start applied), > 0
  std::uint32_t active;  // requests in flight on this server, all threads
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // Returns a position in `candidates` (never empty). Servers a request has
  // already tried are not among them.
  virtual std::size_t pick(std::span<const Candidate> candidates) = 0;
};

// round_robin: smooth weighted round robin (nginx's): over sum(weights)
//              picks, each server is picked `weight` times, interleaved.
// random:      weighted random.
// least_conn:  fewest active relative to weight; ties broken round robin.
// p2c:         two weighted-random distinct candidates, the one with fewer
//              active relative to weight.
std::unique_ptr<Balancer> make_balancer(Balance kind, std::uint64_t seed);

}  // namespace failover::lb
