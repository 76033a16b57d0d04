#include "store/peer_links.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <spdlog/spdlog.h>

#include "core/async_event.h"
#include "net/endpoint.h"
#include "net/listener.h"

namespace failover::store {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A peer that cannot keep up loses frames past this; it catches up by kGap.
constexpr std::size_t kMaxQueuedBytes = 64u << 20;
constexpr std::size_t kReadChunk = 64 * 1024;
}  // namespace

struct PeerLinks::Impl : std::enable_shared_from_this<Impl> {
  struct Link {
    std::string address;
    std::deque<std::string> queue;
    std::size_t queued_bytes = 0;
    std::unique_ptr<core::AsyncCondition> ready;
    std::shared_ptr<tcp::socket> socket;
    std::stop_source wake;  // ends the wait before the next connect
    Stats stats;
  };

  asio::any_io_executor executor;
  const core::Clock& clock;
  core::Duration reconnect_every;
  OnMessage on_message;
  OnConnected on_connected;
  std::map<std::string, Link> links;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::weak_ptr<tcp::socket>> inbound;
  std::stop_source stop;
  std::uint64_t bad_frames = 0;

  Impl(asio::any_io_executor ex, const core::Clock& c, core::Duration every, OnMessage m, OnConnected up)
      : executor(std::move(ex)), clock(c), reconnect_every(every), on_message(std::move(m)), on_connected(std::move(up)) {}

  asio::awaitable<void> connect_loop(std::string name) {
    auto self = shared_from_this();
    Link& link = links.at(name);
    while (!stop.stop_requested()) {
      const auto endpoint = net::resolve_endpoint(link.address);
      if (endpoint) {
        auto socket = std::make_shared<tcp::socket>(executor);
        auto [ec] = co_await socket->async_connect(*endpoint, kTuple);
        if (!ec && !stop.stop_requested()) {
          socket->set_option(tcp::no_delay(true), ec);
          link.socket = socket;
          link.stats.connected = true;
          ++link.stats.connects;
          if (on_connected) on_connected(name);
          co_await write_loop(link, *socket);
          link.stats.connected = false;
          link.socket.reset();
          // What was queued for a dead connection is stale by the next one.
          link.queue.clear();
          link.queued_bytes = 0;
        }
      }
      link.wake = std::stop_source();
      std::stop_callback stopping(stop.get_token(), [&link] { link.wake.request_stop(); });
      co_await clock.sleep_for(reconnect_every, link.wake.get_token());
    }
  }

  asio::awaitable<void> write_loop(Link& link, tcp::socket& socket) {
    while (!stop.stop_requested()) {
      if (link.queue.empty()) {
        co_await link.ready->wait();
        continue;
      }
      // Everything queued goes out in one write: group commit's batching
      // carries through to the wire.
      // (One frame, the usual case and the large value's, is moved, not copied.)
      std::string batch = std::move(link.queue.front());
      link.queue.pop_front();
      while (!link.queue.empty()) {
        batch += link.queue.front();
        link.queue.pop_front();
      }
      link.queued_bytes = 0;
      auto [ec, n] = co_await asio::async_write(socket, asio::buffer(batch), kTuple);
      if (ec) co_return;
    }
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stop.stop_requested()) {
      auto [ec, socket] = co_await acceptor->async_accept(kTuple);
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        co_await clock.sleep_for(std::chrono::milliseconds(50), stop.get_token());
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      std::erase_if(inbound, [](const std::weak_ptr<tcp::socket>& w) { return w.expired(); });
      inbound.push_back(s);
      asio::co_spawn(executor, read_loop(s), asio::detached);
      // A peer connected: if our link to it is down, it has likely just
      // come back, so try that link now.
      for (auto& [name, link] : links)
        if (!link.stats.connected) link.wake.request_stop();
    }
  }

  asio::awaitable<void> read_loop(std::shared_ptr<tcp::socket> socket) {
    auto self = shared_from_this();
    std::string buffer;
    std::size_t used = 0;
    while (!stop.stop_requested()) {
      if (buffer.size() - used < kReadChunk) buffer.resize(used + kReadChunk);
      auto [ec, n] = co_await socket->async_read_some(asio::buffer(buffer.data() + used, buffer.size() - used), kTuple);
      if (ec) co_return;
      used += n;
      std::size_t start = 0;
      while (true) {
        core::Result<DecodedFrame> frame = decode_frame(std::string_view(buffer.data() + start, used - start));
        if (!frame) {
          ++bad_frames;
          boost::system::error_code peer_ec;
          const auto peer = socket->remote_endpoint(peer_ec);
          spdlog::warn("replication: garbage from {}: {}; closing the connection",
                       peer_ec ? std::string("?") : net::to_string(peer), frame.error().message);
          socket->close(peer_ec);
          co_return;
        }
        if (!frame->message) break;
        start += frame->size;
        on_message(std::move(*frame->message));
        if (stop.stop_requested()) co_return;
      }
      buffer.erase(0, start);
      used -= start;
    }
  }
};

PeerLinks::PeerLinks(asio::any_io_executor executor, const core::Clock& clock, std::map<std::string, std::string> peers,
                     core::Duration reconnect_every, OnMessage on_message, OnConnected on_connected)
    : impl_(std::make_shared<Impl>(executor, clock, reconnect_every, std::move(on_message), std::move(on_connected))) {
  for (auto& [name, address] : peers) {
    Impl::Link& link = impl_->links[name];
    link.address = std::move(address);
    link.ready = std::make_unique<core::AsyncCondition>(executor);
  }
}

PeerLinks::~PeerLinks() { stop(); }

void PeerLinks::listen(const tcp::endpoint& endpoint) {
  net::ensure_address_free(endpoint);
  impl_->acceptor.emplace(net::make_acceptor(impl_->executor, endpoint, false));
}

void PeerLinks::start() {
  if (impl_->acceptor) asio::co_spawn(impl_->executor, impl_->accept_loop(), asio::detached);
  for (auto& [name, link] : impl_->links) asio::co_spawn(impl_->executor, impl_->connect_loop(name), asio::detached);
}

void PeerLinks::send(const std::string& to, const Message& m) {
  std::string frame;
  encode(frame, m);
  send_frame(to, std::move(frame));
}

void PeerLinks::send_frame(const std::string& to, std::string frame) {
  auto it = impl_->links.find(to);
  if (it == impl_->links.end()) return;
  Impl::Link& link = it->second;
  if (!link.socket || link.queued_bytes > kMaxQueuedBytes) {
    ++link.stats.frames_dropped;
    return;
  }
  link.queued_bytes += frame.size();
  link.queue.push_back(std::move(frame));
  ++link.stats.frames_sent;
  link.ready->notify_all();
}

void PeerLinks::stop() {
  if (!impl_ || impl_->stop.stop_requested()) return;
  impl_->stop.request_stop();
  boost::system::error_code ec;
  if (impl_->acceptor) impl_->acceptor->close(ec);
  for (auto& [name, link] : impl_->links) {
    if (link.socket) link.socket->close(ec);
    link.ready->notify_all();
  }
  for (auto& w : impl_->inbound)
    if (auto s = w.lock()) s->close(ec);
}

std::map<std::string, PeerLinks::Stats> PeerLinks::stats() const {
  std::map<std::string, Stats> out;
  for (const auto& [name, link] : impl_->links) out[name] = link.stats;
  return out;
}

std::uint64_t PeerLinks::bad_frames() const { return impl_->bad_frames; }

}  // namespace failover::store
