#include "health/runner.h"

#include <random>

#include "health/probe.h"
#include "health/schedule.h"

namespace failover::health {

namespace asio = boost::asio;

asio::awaitable<void> run_checks(const core::Clock& clock, CheckConfig check, ProbeFn probe,
                                 ResultFn on_result, std::stop_token stop, double phase) {
  const Schedule schedule(check);
  core::TimePoint next = schedule.first(clock.now(), phase);
  for (;;) {
    // One statement per co_await: GCC 12 miscompiles some inside a loop condition.
    const bool due = co_await clock.sleep_until(next, stop);
    if (!due) break;
    const core::TimePoint started = clock.now();
    const ProbeResult result = co_await probe();
    if (stop.stop_requested()) break;  // the owner may have dropped the node meanwhile
    const Target& target = on_result(result);
    next = schedule.next(started, clock.now(), target);
  }
}

ProbeFn probe_endpoint(asio::ip::tcp::endpoint traffic, CheckConfig check) {
  if (check.port != 0) traffic.port(static_cast<unsigned short>(check.port));
  return [traffic, check = std::move(check)]() { return probe(traffic, check); };
}

double random_phase() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace failover::health
