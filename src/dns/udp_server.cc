#include "dns/udp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "dns/config.h"

namespace failover::dns {
namespace {

constexpr int kBatch = 32;
constexpr std::size_t kMaxQuery = 4096;  // larger datagrams are cut; they are not queries we answer
// How often a blocked thread looks at the stop flag.
constexpr long kStopCheckMicros = 200'000;

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int bind_socket(const std::string& address, bool reuse_port) {
  const std::optional<Target> where = parse_target(address);  // config checked it is an IP and port
  if (!where) throw std::system_error(EINVAL, std::generic_category(), "bad address " + address);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (where->v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(where->port);
    std::memcpy(&s6->sin6_addr, where->bytes.data(), 16);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(where->port);
    std::memcpy(&s4->sin_addr, where->bytes.data(), 4);
    len = sizeof *s4;
  }
  const int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  const int one = 1;
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // A burst must not overflow the queue before the thread drains it; the
  // kernel caps this at net.core.rmem_max.
  const int rcvbuf = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  timeval tv{0, kStopCheckMicros};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    fail("bind udp " + address);
  }
  return fd;
}

}  // namespace

UdpServer::UdpServer(const std::string& address, int threads, const SnapshotCell& zone) : zone_(zone) {
  // SO_REUSEPORT would let a second process share the port silently and
  // take half the queries; a plain bind first proves the port is free.
  ::close(bind_socket(address, false));
  try {
    for (int i = 0; i < threads; ++i) {
      fds_.push_back(bind_socket(address, true));
      stats_.push_back(std::make_unique<QueryStats>());
    }
  } catch (...) {
    for (int fd : fds_) ::close(fd);  // no destructor runs for a constructor that throws
    throw;
  }
}

UdpServer::~UdpServer() {
  stop();
  for (int fd : fds_) ::close(fd);
}

void UdpServer::start() {
  for (std::size_t i = 0; i < fds_.size(); ++i)
    threads_.emplace_back([this, i] { serve(fds_[i], *stats_[i]); });
}

void UdpServer::stop() {
  stopping_.store(true);
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void UdpServer::serve(int fd, QueryStats& stats) {
  SnapshotCell::Reader zone(zone_);
  std::array<std::array<std::uint8_t, kMaxQuery>, kBatch> in;
  std::array<std::vector<std::uint8_t>, kBatch> out;
  std::array<sockaddr_storage, kBatch> peers;
  std::array<iovec, kBatch> in_iov, out_iov;
  std::array<mmsghdr, kBatch> in_msgs, out_msgs;
  for (int i = 0; i < kBatch; ++i) {
    in_iov[i] = {in[i].data(), in[i].size()};
    in_msgs[i] = {};
    in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
    in_msgs[i].msg_hdr.msg_iovlen = 1;
    in_msgs[i].msg_hdr.msg_name = &peers[i];
  }
  unsigned rotation = 0;
  while (!stopping_.load(std::memory_order_relaxed)) {
    // recvmmsg shortens the address lengths it filled: give them back.
    for (int i = 0; i < kBatch; ++i) in_msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
    // Blocks for the first datagram only, then takes what is queued.
    const int n = ::recvmmsg(fd, in_msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;  // timeout (stop check), EINTR, or a transient error
    const ZoneSnapshot& snapshot = zone.get();
    int replies = 0;
    for (int i = 0; i < n; ++i) {
      const Response r = respond(snapshot, {in[i].data(), in_msgs[i].msg_len}, Transport::kUdp, rotation++, out[i]);
      stats.count(r);
      if (!r.send) continue;
      out_iov[replies] = {out[i].data(), out[i].size()};
      out_msgs[replies] = {};
      out_msgs[replies].msg_hdr.msg_iov = &out_iov[replies];
      out_msgs[replies].msg_hdr.msg_iovlen = 1;
      out_msgs[replies].msg_hdr.msg_name = &peers[i];
      out_msgs[replies].msg_hdr.msg_namelen = in_msgs[i].msg_hdr.msg_namelen;
      ++replies;
    }
    for (int sent = 0; sent < replies;) {
      const int k = ::sendmmsg(fd, out_msgs.data() + sent, replies - sent, 0);
      if (k <= 0) {
        if (k < 0 && errno == EINTR) continue;
        ++sent;  // a peer that cannot be sent to (ICMP error queued): skip it, keep the rest
        continue;
      }
      sent += k;
    }
  }
}

}  // namespace failover::dns
