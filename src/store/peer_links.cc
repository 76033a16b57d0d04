#include "store/peer_links.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <deque>
#include <optional>
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
constexpr std::size_t kDecodeElsewhereBytes = 1u << 20;

// The size of the frame `bytes` starts with, once its length field is in;
// else 0.
std::size_t frame_size(std::string_view bytes) {
  if (bytes.size() < 4) return 0;
  const core::Result<DecodedFrame> head = decode_frame(bytes.substr(0, 4));
  return head && !head->message ? head->size : 0;
}
}  // namespace

struct PeerLinks::Impl : std::enable_shared_from_this<Impl> {
  // A frame in the queue, or the place of one still being encoded
  // (send_later): the queue goes out in order, so it waits for it.
  struct Queued {
    std::string frame;
    std::shared_ptr<std::optional<std::string>> later;  // set: empty until filled
    bool ready() const { return !later || later->has_value(); }
    std::string take() { return later ? std::move(**later) : std::move(frame); }
  };
  struct Link {
    std::string address;
    std::deque<Queued> queue;
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
  std::map<std::pair<std::string, Lane>, Link> links;  // (peer, lane)
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::weak_ptr<tcp::socket>> inbound;
  std::stop_source stop;
  std::uint64_t bad_frames = 0;
  boost::asio::thread_pool decoder{1};  // large frames (read_loop)

  Impl(asio::any_io_executor ex, const core::Clock& c, core::Duration every, OnMessage m, OnConnected up)
      : executor(std::move(ex)), clock(c), reconnect_every(every), on_message(std::move(m)), on_connected(std::move(up)) {}

  asio::awaitable<void> connect_loop(std::pair<std::string, Lane> key) {
    auto self = shared_from_this();
    Link& link = links.at(key);
    const std::string& name = key.first;
    while (!stop.stop_requested()) {
      // Renewed before the attempt, so that the peer connecting to us while
      // it fails still cuts the wait after it short (with two lanes a lost
      // wake-up cost a failback a whole reconnect_every).
      link.wake = std::stop_source();
      const auto endpoint = net::resolve_endpoint(link.address);
      if (endpoint) {
        auto socket = std::make_shared<tcp::socket>(executor);
        auto [ec] = co_await socket->async_connect(*endpoint, kTuple);
        if (!ec && !stop.stop_requested()) {
          socket->set_option(tcp::no_delay(true), ec);
          link.socket = socket;
          link.stats.connected = true;
          ++link.stats.connects;
          // The peer listens now: its other lane need not wait for its next try.
          for (auto& [other, l] : links)
            if (other.first == name && !l.stats.connected) l.wake.request_stop();
          if (on_connected) on_connected(name);
          asio::co_spawn(executor, watch_close(link, socket), asio::detached);
          co_await write_loop(link, *socket);
          socket->close(ec);  // ends watch_close's read
          link.stats.connected = false;
          link.socket.reset();
          // What was queued for a dead connection is stale by the next one.
          link.queue.clear();
          link.queued_bytes = 0;
        }
      }
      std::stop_callback stopping(stop.get_token(), [&link] { link.wake.request_stop(); });
      co_await clock.sleep_for(reconnect_every, link.wake.get_token());
    }
  }

  // The peer sends nothing on our connection (its messages come on its
  // own), so a read ends only when the connection does: a killed peer's FIN
  // or RST. Without it the link stayed "connected" until a write failed
  // (the second one after the death: the first is taken by the kernel), and
  // a restarted peer's connection woke nothing: a failback waited two
  // reconnect intervals (~75 ms) for it.
  asio::awaitable<void> watch_close(Link& link, std::shared_ptr<tcp::socket> socket) {
    auto self = shared_from_this();
    char byte;
    co_await socket->async_read_some(asio::buffer(&byte, 1), kTuple);
    boost::system::error_code ignored;
    socket->close(ignored);
    link.ready->notify_all();  // the write loop sees the socket closed
  }

  asio::awaitable<void> write_loop(Link& link, tcp::socket& socket) {
    while (!stop.stop_requested() && socket.is_open()) {
      if (link.queue.empty() || !link.queue.front().ready()) {
        co_await link.ready->wait();
        continue;
      }
      // Everything queued and ready goes out in one gather write (frames
      // are not joined: one may be 64 MiB): group commit's batching carries
      // through to the wire.
      std::vector<std::string> frames;
      std::vector<asio::const_buffer> buffers;
      while (!link.queue.empty() && link.queue.front().ready()) {
        frames.push_back(link.queue.front().take());
        link.queue.pop_front();
      }
      std::size_t bytes = 0;
      for (const std::string& f : frames) {
        buffers.push_back(asio::buffer(f));
        bytes += f.size();
      }
      link.queued_bytes -= std::min(link.queued_bytes, bytes);  // what is left waits behind an unfilled place
      auto [ec, n] = co_await asio::async_write(socket, buffers, kTuple);
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
      // Room for the whole of a large frame at once, rather than doubling
      // (each doubling copies all read so far: ~100 ms at 32 MiB here). Its
      // length was checked against kMaxFrame, and the pages are only taken
      // as bytes arrive.
      if (const std::size_t whole = frame_size(std::string_view(buffer.data(), used)); whole > buffer.capacity())
        buffer.reserve(whole + kReadChunk);
      std::size_t start = 0;
      while (true) {
        const std::string_view rest(buffer.data() + start, used - start);
        core::Result<DecodedFrame> frame = DecodedFrame{};
        // A large frame (a 64 MiB value: its copy and checksum take ~200 ms
        // here) is decoded on `decoder`, so the io thread goes on with the
        // control lane's beacons meanwhile; this lane waits, keeping its order.
        if (const std::size_t whole = frame_size(rest); whole >= kDecodeElsewhereBytes && rest.size() >= whole) {
          co_await core::run_on(decoder, executor, [&frame, rest] { frame = decode_frame(rest); });
        } else {
          frame = decode_frame(rest);
        }
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
      if (buffer.capacity() > kDecodeElsewhereBytes && used < kReadChunk) {
        // Done with a large frame: its buffer goes, freed off the io thread
        // (unmapping 64 MiB takes a while here too).
        std::string small(buffer.data(), used);
        asio::post(decoder, [large = std::move(buffer)] {});
        buffer = std::move(small);
      }
    }
  }
};

PeerLinks::PeerLinks(asio::any_io_executor executor, const core::Clock& clock, std::map<std::string, std::string> peers,
                     core::Duration reconnect_every, OnMessage on_message, OnConnected on_connected)
    : impl_(std::make_shared<Impl>(executor, clock, reconnect_every, std::move(on_message), std::move(on_connected))) {
  for (const auto& [name, address] : peers) {
    for (const Lane lane : {Lane::kControl, Lane::kData}) {
      Impl::Link& link = impl_->links[{name, lane}];
      link.address = address;
      link.ready = std::make_unique<core::AsyncCondition>(executor);
    }
  }
}

PeerLinks::~PeerLinks() { stop(); }

void PeerLinks::listen(const tcp::endpoint& endpoint) {
  net::ensure_address_free(endpoint);
  impl_->acceptor.emplace(net::make_acceptor(impl_->executor, endpoint, false));
}

void PeerLinks::start() {
  if (impl_->acceptor) asio::co_spawn(impl_->executor, impl_->accept_loop(), asio::detached);
  for (auto& [key, link] : impl_->links) asio::co_spawn(impl_->executor, impl_->connect_loop(key), asio::detached);
}

void PeerLinks::send(const std::string& to, const Message& m) {
  std::string frame;
  encode(frame, m);
  const auto* append = std::get_if<Append>(&m);
  send_frame(to, std::move(frame), append && !append->entries.empty() ? Lane::kData : Lane::kControl);
}

bool PeerLinks::send_frame(const std::string& to, std::string frame, Lane lane) {
  auto it = impl_->links.find({to, lane});
  if (it == impl_->links.end()) return false;
  Impl::Link& link = it->second;
  if (!link.socket || link.queued_bytes > kMaxQueuedBytes) {
    ++link.stats.frames_dropped;
    return false;
  }
  link.queued_bytes += frame.size();
  link.queue.push_back(Impl::Queued{std::move(frame), nullptr});
  ++link.stats.frames_sent;
  link.ready->notify_all();
  return true;
}

PeerLinks::Fill PeerLinks::send_later(const std::string& to, Lane lane) {
  auto it = impl_->links.find({to, lane});
  if (it == impl_->links.end()) return {};
  Impl::Link& link = it->second;
  if (!link.socket || link.queued_bytes > kMaxQueuedBytes) {
    ++link.stats.frames_dropped;
    return {};
  }
  auto later = std::make_shared<std::optional<std::string>>();
  link.queue.push_back(Impl::Queued{{}, later});
  ++link.stats.frames_sent;
  // The link may have reconnected meanwhile and dropped its queue (the
  // place is then held here alone): the frame goes nowhere, as any frame
  // queued on a broken connection, and counts toward no queue.
  return [weak = std::weak_ptr<Impl>(impl_), key = it->first, later](std::string frame) {
    auto impl = weak.lock();
    if (!impl || later.use_count() == 1) return;
    Impl::Link& l = impl->links.at(key);
    l.queued_bytes += frame.size();
    *later = std::move(frame);
    l.ready->notify_all();
  };
}

void PeerLinks::stop() {
  if (!impl_ || impl_->stop.stop_requested()) return;
  impl_->stop.request_stop();
  impl_->decoder.join();  // a frame being decoded is dropped with its connection
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
  for (const auto& [key, link] : impl_->links) {
    auto [it, first] = out.try_emplace(key.first, link.stats);
    if (first) continue;
    Stats& s = it->second;  // both lanes of the peer: connected when both are
    s.connected = s.connected && link.stats.connected;
    s.frames_sent += link.stats.frames_sent;
    s.frames_dropped += link.stats.frames_dropped;
    s.connects += link.stats.connects;
  }
  return out;
}

std::uint64_t PeerLinks::bad_frames() const { return impl_->bad_frames; }

}  // namespace failover::store
