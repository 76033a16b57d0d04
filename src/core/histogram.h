#pragma once
// A Prometheus histogram's state: counts of observations per bucket, their
// sum and their count. A value type: no lock, no clock, no registry; its
// owner observes and hands it to MetricsWriter::histogram for a scrape.
//
// Threads: thread-compatible (like std::vector): concurrent reads are fine,
// a write needs the owner's thread or the owner's lock.
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace failover::core {

class Histogram {
 public:
  // `upper_bounds`: the buckets' inclusive upper bounds, strictly
  // increasing and finite; the +Inf bucket is implicit. Anything else is a
  // programming error (std::logic_error). Fixed for the histogram's life so
  // that a series never changes its buckets between scrapes.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(std::initializer_list<double> upper_bounds) : Histogram(std::vector<double>(upper_bounds)) {}

  // Counts `value` in the first bucket whose bound is >= value (+Inf when
  // none is) and adds it to the sum. A NaN is counted in +Inf and makes the
  // sum NaN, as Prometheus's own clients do.
  void observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Observations <= upper_bounds()[i], cumulative as Prometheus wants; the
  // element after the last bound is the +Inf bucket (== count()).
  std::vector<std::uint64_t> cumulative_counts() const;
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; one more than bounds_ (+Inf)
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace failover::core
