#include "client/service_follower.h"

namespace failover::client {

namespace asio = boost::asio;

asio::awaitable<void> follow_service(const core::Clock& clock, RegistryClient& client, std::string service,
                                     std::stop_token stop, std::function<void(const ServiceResult&)> on_result,
                                     FollowOptions options) {
  std::uint64_t index = 0;
  std::string index_from;  // the registry whose numbering `index` is in
  while (!stop.stop_requested()) {
    if (client.current() != index_from) index = 0;
    ServiceResult r = co_await client.watch(service, index, options.wait);
    if (stop.stop_requested()) co_return;
    on_result(r);
    if (!r.ok() && !r.is(core::ErrorCode::kNotFound)) {
      // One statement per co_await: GCC 12 miscompiles some inside a condition.
      const bool woke = co_await clock.sleep_until(clock.now() + options.retry_pause, stop);
      if (!woke) co_return;
      continue;
    }
    index = state_of(r).index;
    index_from = client.current();
  }
}

}  // namespace failover::client
