#include "lb/worker.h"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "lb/control_loop.h"
#include "net/listener.h"

namespace failover::lb {

namespace asio = boost::asio;
using asio::ip::tcp;

Worker::Worker(int index, WorkerShared& shared)
    : index_(index), shared_(shared), rng_state_(std::random_device{}() | 1ULL << 40) {}

Worker::~Worker() = default;

void Worker::listen(const tcp::endpoint& endpoint) {
  acceptor_.emplace(net::make_acceptor(io_.get_executor(), endpoint, true));
  asio::co_spawn(io_, accept_loop(), asio::detached);
  asio::co_spawn(io_, sweep_loop(), asio::detached);
}

void Worker::run() { io_.run(); }

void Worker::drain() {
  asio::post(io_, [this] {
    draining_ = true;
    sweep_stop_.request_stop();
    if (acceptor_) acceptor_->close();
    pool_.clear();
    boost::system::error_code ec;
    for (auto* socket : idle_clients_) socket->cancel(ec);
  });
}

void Worker::stop() { io_.stop(); }

void Worker::set_snapshot(std::shared_ptr<const Snapshot> snapshot) {
  // Balancer state (round-robin position) survives a new snapshot as long as
  // the upstream at that position is the same one.
  std::vector<std::unique_ptr<Balancer>> balancers(snapshot->upstreams.size());
  for (std::size_t i = 0; i < snapshot->upstreams.size(); ++i) {
    const auto& up = snapshot->upstreams[i];
    if (snapshot_ && i < snapshot_->upstreams.size() && i < balancers_.size() &&
        snapshot_->upstreams[i].name == up.name && snapshot_->upstreams[i].balance == up.balance)
      balancers[i] = std::move(balancers_[i]);
    else
      balancers[i] = make_balancer(up.balance, next_random());
  }
  balancers_ = std::move(balancers);
  snapshot_ = std::move(snapshot);
}

Balancer& Worker::balancer(const Snapshot& snapshot, const UpstreamView& upstream) {
  const auto i = static_cast<std::size_t>(&upstream - snapshot.upstreams.data());
  if (i < balancers_.size() && snapshot_->upstreams[i].name == upstream.name) return *balancers_[i];
  if (!stray_) stray_ = make_balancer(Balance::kRandom, next_random());
  return *stray_;
}

void Worker::report_failure(const ServerView& server, const char* cause) {
  asio::post(*shared_.control_io, [control = shared_.control, health = server.health, cause] {
    control->on_failure(health, cause);
  });
}

std::uint64_t Worker::next_random() {
  // splitmix64: fast, and good enough to seed balancers.
  std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

asio::awaitable<void> Worker::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {
      // Out of descriptors (EMFILE) and the like: wait a little instead of
      // spinning; connections queue in the backlog meanwhile.
      spdlog::warn("accept failed: {}", ec.message());
      co_await core::SteadyClock::instance().sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (shared_.client_connections.load(std::memory_order_relaxed) >=
        snapshot_->limits.client_connections) {
      continue;  // over the limit: the socket closes here
    }
    shared_.client_connections.fetch_add(1, std::memory_order_relaxed);
    Worker& target = least_loaded();
    target.connections_.fetch_add(1, std::memory_order_relaxed);
    if (&target == this) {
      start_session(std::move(socket));
      continue;
    }
    // The kernel's SO_REUSEPORT hash gives threads uneven shares (41/23 of
    // 64 connections seen here), and the busier thread's queue lengthens
    // the latency of its requests (p90 1.7-2.4 ms against 1.4-1.8 ms once
    // balanced); the socket moves to the least loaded worker instead.
    boost::system::error_code release_ec;
    const auto protocol = socket.local_endpoint(release_ec).protocol();
    const auto fd = release_ec ? -1 : socket.release(release_ec);
    if (release_ec) {
      target.connections_.fetch_sub(1, std::memory_order_relaxed);
      shared_.client_connections.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    asio::post(target.io_, [&target, protocol, fd] {
      tcp::socket moved(target.io_);
      boost::system::error_code assign_ec;
      moved.assign(protocol, fd, assign_ec);
      if (assign_ec) {  // the descriptor is still ours alone: close it
        ::close(fd);
        target.connections_.fetch_sub(1, std::memory_order_relaxed);
        target.shared_.client_connections.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      target.start_session(std::move(moved));
    });
  }
}

Worker& Worker::least_loaded() {
  Worker* best = this;
  int best_count = connections_.load(std::memory_order_relaxed);
  for (Worker* w : shared_.workers) {
    const int count = w->connections_.load(std::memory_order_relaxed);
    // Only a clear difference moves a connection: a handoff costs a post.
    if (count + 1 < best_count) {
      best = w;
      best_count = count;
    }
  }
  return *best;
}

void Worker::start_session(tcp::socket socket) {
  asio::co_spawn(io_, client_session(*this, std::move(socket)), [this](std::exception_ptr e) {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    shared_.client_connections.fetch_sub(1, std::memory_order_relaxed);
    if (e) {
      try { std::rethrow_exception(e); } catch (const std::exception& x) {
        spdlog::error("client session failed: {}", x.what());
      }
    }
  });
}

asio::awaitable<void> Worker::sweep_loop() {
  const core::Clock& clock = core::SteadyClock::instance();
  while (!draining_) {
    const bool woke = co_await clock.sleep_for(std::chrono::seconds(1), sweep_stop_.get_token());
    if (!woke) co_return;
    if (snapshot_) pool_.sweep(clock.now(), snapshot_->limits.upstream_idle_timeout);
  }
}

}  // namespace failover::lb
