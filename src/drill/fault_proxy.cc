#include "drill/fault_proxy.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <list>
#include <random>
#include <stop_token>

#include "core/async_event.h"
#include "net/endpoint.h"
#include "net/listener.h"

namespace failover::drill {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kChunk = 64 * 1024;
// What one direction holds while a delay runs; past it the proxy stops
// reading, so a fast sender behind a long delay is slowed, not buffered.
constexpr std::size_t kMaxHeldBytes = 4u << 20;

// Closes with an RST rather than a FIN, as a refusing or rebooted host does.
void reset(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::socket::linger(true, 0), ec);
  socket.close(ec);
}
}  // namespace

struct FaultProxy::Impl : std::enable_shared_from_this<Impl> {
  // One direction of a connection: what was read and is due to be written.
  struct Pipe {
    explicit Pipe(const asio::any_io_executor& ex) : ready(ex) {}
    std::deque<std::pair<core::TimePoint, std::string>> queue;
    std::size_t bytes = 0;  // in `queue`
    bool eof = false;  // the reading side ended cleanly: half-close after the queue
    core::AsyncCondition ready;
  };
  struct Conn {
    explicit Conn(tcp::socket c) : client(std::move(c)), upstream(client.get_executor()),
                                   up(client.get_executor()), down(client.get_executor()) {}
    tcp::socket client;
    tcp::socket upstream;
    Pipe up, down;  // up: client -> upstream
    std::stop_source stop;
    int pumps_left = 4;
  };

  Impl(asio::any_io_executor ex, const core::Clock& c, std::string up, std::uint64_t seed)
      : executor(std::move(ex)), clock(c), upstream(std::move(up)), upstream_endpoint(net::resolve_endpoint(upstream)),
        rng(seed), changed(executor) {}

  asio::any_io_executor executor;
  const core::Clock& clock;
  std::string upstream;
  // Resolved once: a name would otherwise cost a blocking lookup on the io
  // thread for every connection. None: every connect fails (and resets).
  std::optional<tcp::endpoint> upstream_endpoint;
  std::mt19937_64 rng;
  std::optional<tcp::acceptor> acceptor;
  Fault fault;
  core::AsyncCondition changed;  // the fault changed, or stop
  std::list<std::shared_ptr<Conn>> conns;
  std::stop_source stopping;
  Stats stats;

  void end(Conn& c, bool reset_client) {
    if (c.stop.stop_requested()) return;
    c.stop.request_stop();
    boost::system::error_code ec;
    if (reset_client) {
      reset(c.client);
      ++stats.reset;
    } else {
      c.client.close(ec);
    }
    c.upstream.close(ec);
    c.up.ready.notify_all();
    c.down.ready.notify_all();
    changed.notify_all();
  }

  void apply_to_open() {
    for (auto& c : conns) {
      if (resets_open_connections(fault)) {
        end(*c, true);
      } else if (drops_upstream_silently(fault)) {
        // The far end vanished: the client is told nothing until it writes.
        boost::system::error_code ec;
        c->upstream.close(ec);
        for (Pipe* pipe : {&c->up, &c->down}) {
          pipe->queue.clear();
          pipe->bytes = 0;
          pipe->ready.notify_all();
        }
      }
    }
    changed.notify_all();
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping.stop_requested()) {
      auto [ec, socket] = co_await acceptor->async_accept(kTuple);
      if (stopping.stop_requested()) co_return;
      if (ec) {
        co_await clock.sleep_for(std::chrono::milliseconds(10), stopping.get_token());
        continue;
      }
      ++stats.accepted;
      auto conn = std::make_shared<Conn>(std::move(socket));
      conns.push_back(conn);
      ++stats.open;
      asio::co_spawn(executor, handle(conn), asio::detached);
    }
  }

  asio::awaitable<void> handle(std::shared_ptr<Conn> c) {
    auto self = shared_from_this();
    const double draw = std::uniform_real_distribution<double>(0, 1)(rng);
    Verdict v;
    while ((v = on_connect(fault, draw)) == Verdict::kHold && !c->stop.stop_requested()) co_await changed.wait();
    if (v == Verdict::kReset || c->stop.stop_requested()) {
      end(*c, v == Verdict::kReset);
      forget(c, 4);
      co_return;
    }
    boost::system::error_code ec = asio::error::host_not_found;
    if (upstream_endpoint) std::tie(ec) = co_await c->upstream.async_connect(*upstream_endpoint, kTuple);
    if (ec) {
      if (!c->stop.stop_requested()) ++stats.upstream_failures;  // not a connect that stop() cut short
      end(*c, true);
      forget(c, 4);
      co_return;
    }
    c->upstream.set_option(tcp::no_delay(true), ec);
    c->client.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(executor, read_pump(c, c->client, c->up, Direction::kToUpstream), asio::detached);
    asio::co_spawn(executor, write_pump(c, c->upstream, c->up), asio::detached);
    asio::co_spawn(executor, read_pump(c, c->upstream, c->down, Direction::kToClient), asio::detached);
    asio::co_spawn(executor, write_pump(c, c->client, c->down), asio::detached);
  }

  void forget(const std::shared_ptr<Conn>& c, int pumps) {
    c->pumps_left -= pumps;
    if (c->pumps_left > 0) return;
    conns.remove(c);
    --stats.open;
  }

  asio::awaitable<void> read_pump(std::shared_ptr<Conn> c, tcp::socket& from, Pipe& pipe, Direction dir) {
    auto self = shared_from_this();
    std::string buffer(kChunk, '\0');
    while (!c->stop.stop_requested()) {
      // A blackhole stops reading, so the sender's window fills and it hangs.
      while (fault.kind == Fault::Kind::kBlackhole && !c->stop.stop_requested()) co_await changed.wait();
      while (pipe.bytes >= kMaxHeldBytes && !c->stop.stop_requested()) co_await pipe.ready.wait();
      if (c->stop.stop_requested()) break;
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), kTuple);
      if (c->stop.stop_requested()) break;
      if (ec) {
        if (dir == Direction::kToClient && drops_upstream_silently(fault)) {
          // We closed the upstream side ourselves: the client hears nothing.
          forget(c, 1);
          co_return;
        }
        if (ec == asio::error::eof) {
          pipe.eof = true;
          pipe.ready.notify_all();
          forget(c, 1);
          co_return;
        }
        end(*c, false);
        break;
      }
      Verdict v;
      while ((v = on_chunk(fault, dir)) == Verdict::kHold && !c->stop.stop_requested()) co_await changed.wait();
      if (c->stop.stop_requested()) break;
      if (v == Verdict::kReset) {
        end(*c, true);
        break;
      }
      const core::Duration delay = fault.kind == Fault::Kind::kDelay ? fault.delay : core::Duration{0};
      pipe.queue.emplace_back(clock.now() + delay, buffer.substr(0, n));
      pipe.bytes += n;
      pipe.ready.notify_all();
    }
    forget(c, 1);
  }

  asio::awaitable<void> write_pump(std::shared_ptr<Conn> c, tcp::socket& to, Pipe& pipe) {
    auto self = shared_from_this();
    while (!c->stop.stop_requested()) {
      if (pipe.queue.empty()) {
        if (pipe.eof) {
          boost::system::error_code ec;
          to.shutdown(tcp::socket::shutdown_send, ec);
          break;
        }
        co_await pipe.ready.wait();
        continue;
      }
      const core::TimePoint due = pipe.queue.front().first;
      if (clock.now() < due) {
        co_await clock.sleep_until(due, c->stop.get_token());
        continue;
      }
      std::string bytes = std::move(pipe.queue.front().second);
      pipe.queue.pop_front();
      pipe.bytes -= bytes.size();
      pipe.ready.notify_all();  // a reader held back by kMaxHeldBytes
      auto [ec, n] = co_await asio::async_write(to, asio::buffer(bytes), kTuple);
      if (c->stop.stop_requested()) break;
      if (ec) {
        // Writing to an upstream we closed for half-open is expected.
        if (&to == &c->upstream && drops_upstream_silently(fault)) continue;
        end(*c, false);
        break;
      }
      (&to == &c->upstream ? stats.bytes_to_upstream : stats.bytes_to_client) += n;
    }
    forget(c, 1);
  }
};

FaultProxy::FaultProxy(asio::any_io_executor executor, const core::Clock& clock, std::string upstream,
                       std::uint64_t seed)
    : impl_(std::make_shared<Impl>(std::move(executor), clock, std::move(upstream), seed)) {}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::listen(const tcp::endpoint& endpoint) {
  impl_->acceptor.emplace(net::make_acceptor(impl_->executor, endpoint, false));
}

tcp::endpoint FaultProxy::local_endpoint() const { return impl_->acceptor->local_endpoint(); }

void FaultProxy::start() { asio::co_spawn(impl_->executor, impl_->accept_loop(), asio::detached); }

void FaultProxy::stop() {
  if (!impl_ || impl_->stopping.stop_requested()) return;
  impl_->stopping.request_stop();
  boost::system::error_code ec;
  if (impl_->acceptor) impl_->acceptor->close(ec);
  for (auto& c : impl_->conns) impl_->end(*c, false);
  impl_->changed.notify_all();
}

void FaultProxy::set(const Fault& fault) {
  impl_->fault = fault;
  impl_->apply_to_open();
}

const Fault& FaultProxy::fault() const { return impl_->fault; }
const std::string& FaultProxy::upstream() const { return impl_->upstream; }
FaultProxy::Stats FaultProxy::stats() const { return impl_->stats; }

}  // namespace failover::drill
