#pragma once
// DNS over UDP: one thread per socket, each socket bound with SO_REUSEPORT
// to the same address so the kernel spreads queries over the threads. A
// thread takes up to kBatch datagrams per system call (recvmmsg) and sends
// their replies in one more (sendmmsg): a busy responder makes two system
// calls per batch, not two per query. Plain blocking sockets: there is
// nothing else for these threads to wait on.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dns/snapshot_cell.h"
#include "dns/stats.h"

namespace failover::dns {

class UdpServer {
 public:
  // Binds `threads` sockets to `address` ("127.0.0.1:5353", "[::1]:53").
  // Throws std::system_error when it cannot.
  UdpServer(const std::string& address, int threads, const SnapshotCell& zone);
  ~UdpServer();  // stops and joins the threads
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  void start();
  void stop();
  // Per-thread counters, for /metrics.
  const std::vector<std::unique_ptr<QueryStats>>& stats() const { return stats_; }

 private:
  void serve(int fd, QueryStats& stats);

  const SnapshotCell& zone_;
  std::vector<int> fds_;
  std::vector<std::unique_ptr<QueryStats>> stats_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

}  // namespace failover::dns
