#pragma once
// One worker thread of `failover lb`: its own io_context, its own listening
// socket (SO_REUSEPORT), its own copy of the health snapshot, balancers and
// upstream connection pool. Nothing here is shared with other workers except
// through the Shared block's atomics.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <unordered_set>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include "lb/balancer.h"
#include "lb/model.h"
#include "lb/upstream_pool.h"

namespace failover::lb {

class ControlLoop;

// What all workers and the control thread share.
struct WorkerShared {
  boost::asio::io_context* control_io = nullptr;
  ControlLoop* control = nullptr;
  std::atomic<int> client_connections{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> no_server{0};  // 503 because no server was available
  std::vector<class Worker*> workers;         // all of them, set before they run
};

class Worker {
 public:
  Worker(int index, WorkerShared& shared);
  ~Worker();

  boost::asio::io_context& io() { return io_; }
  int index() const { return index_; }

  // Opens this worker's listening socket; throws on bind failure.
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Runs the io_context on the calling thread until stop().
  void run();
  // From any thread: stop accepting, finish the requests in flight, close
  // idle keep-alive connections.
  void drain();
  void stop();

  // Open client connections on this worker (any thread may read it).
  int connections() const { return connections_.load(std::memory_order_relaxed); }

  // --- worker thread only ---
  void set_snapshot(std::shared_ptr<const Snapshot> snapshot);
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  // The balancer of `upstream`, an element of `snapshot` (which may be older
  // than the worker's current one: a session keeps the snapshot its request
  // started with).
  Balancer& balancer(const Snapshot& snapshot, const UpstreamView& upstream);
  UpstreamPool& pool() { return pool_; }
  WorkerShared& shared() { return shared_; }
  bool draining() const { return draining_; }
  // Hands a failed attempt to the control thread (passive detection).
  void report_failure(const ServerView& server, const char* cause);
  std::uint64_t next_random();
  // A client connection waiting for its next request registers here, so a
  // drain can close it at once instead of after the keep-alive timeout.
  void idle_begin(boost::asio::ip::tcp::socket* stream) { idle_clients_.insert(stream); }
  void idle_end(boost::asio::ip::tcp::socket* stream) { idle_clients_.erase(stream); }

 private:
  boost::asio::awaitable<void> accept_loop();
  Worker& least_loaded();
  void start_session(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> sweep_loop();

  int index_;
  WorkerShared& shared_;
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};  // sockets are touched by this thread only
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::unique_ptr<Balancer>> balancers_;  // by upstream position in snapshot_
  std::unique_ptr<Balancer> stray_;  // for upstreams a reload has since removed
  UpstreamPool pool_;
  bool draining_ = false;
  std::stop_source sweep_stop_;  // ends sweep_loop's sleep when draining
  std::uint64_t rng_state_;
  std::unordered_set<boost::asio::ip::tcp::socket*> idle_clients_;
  std::atomic<int> connections_{0};
};

// The client connection's coroutine (proxy_session.cc).
boost::asio::awaitable<void> client_session(Worker& worker, boost::asio::ip::tcp::socket socket);

}  // namespace failover::lb
