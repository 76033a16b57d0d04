#include "dns/tcp_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <spdlog/spdlog.h>

#include "net/listener.h"

namespace failover::dns {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Shared {
  const SnapshotCell& zone;
  QueryStats& stats;
  TcpLimits limits;
  int connections = 0;  // io thread only
};

asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<Shared> shared) {
  beast::tcp_stream stream(std::move(socket));
  SnapshotCell::Reader zone(shared->zone);
  std::vector<std::uint8_t> buffer;
  std::vector<std::uint8_t> reply;
  std::size_t used = 0;
  unsigned rotation = 0;
  for (;;) {
    // Answer every whole message already read, then read more.
    while (auto m = net::dns::take_tcp_message({buffer.data(), used})) {
      const Response r = respond(zone.get(), m->message, Transport::kTcp, rotation++, reply);
      shared->stats.count(r);
      if (!r.send) co_return;  // a response or a runt: not a DNS client
      const auto prefix = net::dns::tcp_length_prefix(reply.size());
      const std::array<asio::const_buffer, 2> out{asio::buffer(prefix), asio::buffer(reply)};
      stream.expires_after(shared->limits.idle_timeout);
      auto [ec, n] = co_await asio::async_write(stream, out, kTuple);
      if (ec) co_return;
      std::copy(buffer.begin() + m->consumed, buffer.begin() + used, buffer.begin());
      used -= m->consumed;
    }
    // A message is at most 2 + 65535 bytes, so the buffer stays bounded.
    if (buffer.size() < used + 4096) buffer.resize(std::min<std::size_t>(used + 4096, 2 + 65535 + 4096));
    if (used == buffer.size()) co_return;  // cannot happen with the cap above; stay safe
    // One deadline per message, set when it starts: a client that trickles
    // a byte at a time cannot hold its connection past it.
    if (used == 0) stream.expires_after(shared->limits.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer.data() + used, buffer.size() - used), kTuple);
    if (ec) co_return;  // closed, reset or idle too long
    used += n;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, std::shared_ptr<Shared> shared) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors and the like: wait instead of spinning.
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    if (shared->connections >= shared->limits.max_connections) continue;  // closed at once
    ++shared->connections;
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), shared),
                   [shared](std::exception_ptr) { --shared->connections; });
  }
}

}  // namespace

void serve_dns_tcp(asio::io_context& io, const tcp::endpoint& endpoint, const SnapshotCell& zone,
                   QueryStats& stats, TcpLimits limits) {
  tcp::acceptor acceptor = net::make_acceptor(io.get_executor(), endpoint, false);
  auto shared = std::make_shared<Shared>(Shared{zone, stats, limits});
  asio::co_spawn(io, accept_loop(std::move(acceptor), shared), asio::detached);
}

}  // namespace failover::dns
