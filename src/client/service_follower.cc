#include "client/service_follower.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace failover::client {

namespace asio = boost::asio;

asio::awaitable<void> follow_service(RegistryClient& client, std::string service, std::function<bool()> stopped,
                                     std::function<void(const ServiceResult&)> on_result, FollowOptions options) {
  std::uint64_t index = 0;
  std::string index_from;  // the registry whose numbering `index` is in
  while (!stopped()) {
    if (client.current() != index_from) index = 0;
    ServiceResult r = co_await client.watch(service, index, options.wait);
    if (stopped()) co_return;
    on_result(r);
    if (!r.ok() && !r.is(core::ErrorCode::kNotFound)) {
      asio::steady_timer pause(co_await asio::this_coro::executor, options.retry_pause);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    index = state_of(r).index;
    index_from = client.current();
  }
}

}  // namespace failover::client
