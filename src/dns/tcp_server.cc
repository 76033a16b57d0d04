#include "dns/tcp_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <map>

#include "core/clock.h"
#include "dns/tcp_connections.h"
#include "net/listener.h"

namespace failover::dns {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using Id = TcpConnectionTable::Id;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Everything below is touched on the io thread only.
struct Shared {
  const SnapshotCell& zone;
  QueryStats& stats;
  TcpConnectionStats& connections;
  TcpLimits limits;
  TcpConnectionTable table{limits.max_connections, limits.max_connections_per_client};
  std::map<Id, beast::tcp_stream*> streams;  // of running sessions, to close the evicted ones

  core::TimePoint now() const { return core::SteadyClock::instance().now(); }

  // Closing cancels the session's pending read; it then ends by itself.
  void evict(Id id) {
    ++connections.evicted;
    connections.open = table.size();
    if (auto it = streams.find(id); it != streams.end()) it->second->close();
  }
};

// Leaves the table and the stream map however the session ends, including
// when the io_context is destroyed with the session suspended.
struct SessionGuard {
  Shared& shared;
  Id id;
  ~SessionGuard() {
    shared.streams.erase(id);
    shared.table.remove(id);
    shared.connections.open = shared.table.size();
  }
};

asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<Shared> shared, Id id) {
  // Evicted between its accept and now: co_spawn starts a session later.
  if (!shared->table.contains(id)) co_return;
  beast::tcp_stream stream(std::move(socket));
  shared->streams[id] = &stream;
  const SessionGuard guard{*shared, id};
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
    if (used == 0) {
      // Between queries: the one kind of connection a new one may push out.
      shared->table.set_idle(id, shared->now());
      // One deadline per message, set when it starts: a client that trickles
      // a byte at a time cannot hold its connection past it.
      stream.expires_after(shared->limits.idle_timeout);
    }
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer.data() + used, buffer.size() - used), kTuple);
    if (ec) co_return;  // closed, reset, idle too long or evicted
    // A query has begun: the connection is busy until its last reply is out.
    if (n > 0) shared->table.set_busy(id);
    used += n;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, std::shared_ptr<Shared> shared) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec == asio::error::no_descriptors) {
      // Out of descriptors: an idle connection's makes room, as a limit would.
      if (auto id = shared->table.evict_oldest_idle()) {
        shared->evict(*id);
        continue;
      }
    }
    if (ec) {
      // Out of descriptors with none idle and the like: wait instead of spinning.
      co_await core::SteadyClock::instance().sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    boost::system::error_code peer_ec;
    const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) continue;  // reset before we got to it
    const TcpConnectionTable::Admission a = shared->table.admit(peer.address(), shared->now());
    if (!a.accepted) {
      ++shared->connections.refused;
      continue;  // the socket closes here
    }
    if (a.evicted) shared->evict(*a.evicted);
    shared->connections.open = shared->table.size();
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), shared, a.id), asio::detached);
  }
}

}  // namespace

void serve_dns_tcp(asio::io_context& io, const tcp::endpoint& endpoint, const SnapshotCell& zone,
                   const TcpLimits& limits, QueryStats& stats, TcpConnectionStats& connections) {
  tcp::acceptor acceptor = net::make_acceptor(io.get_executor(), endpoint, false);
  auto shared = std::make_shared<Shared>(zone, stats, connections, limits);
  asio::co_spawn(io, accept_loop(std::move(acceptor), shared), asio::detached);
}

}  // namespace failover::dns
