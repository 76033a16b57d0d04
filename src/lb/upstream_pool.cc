#include "lb/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace failover::lb {

namespace {

// An idle connection must have nothing to read: 0 bytes means the server
// closed it, any bytes are garbage we must not take for the next response.
bool still_open(UpstreamConn& conn) {
  char byte;
  const ssize_t n = ::recv(conn.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::unique_ptr<UpstreamConn> UpstreamPool::take(const ServerView& server, core::TimePoint now,
                                                 std::chrono::milliseconds idle_timeout,
                                                 bool verify) {
  auto it = idle_.find(server.address);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    std::unique_ptr<UpstreamConn> conn = std::move(list.back());
    list.pop_back();
    if (now - conn->idle_since < idle_timeout && conn->buffer.empty() && (!verify || still_open(*conn)))
      return conn;
  }
  return nullptr;
}

void UpstreamPool::put(const ServerView& server, std::unique_ptr<UpstreamConn> conn,
                       core::TimePoint now) {
  auto& list = idle_[server.address];
  if (list.size() >= kMaxIdlePerServer) return;  // conn closes here
  conn->idle_since = now;
  conn->reused = true;
  list.push_back(std::move(conn));
}

void UpstreamPool::sweep(core::TimePoint now, std::chrono::milliseconds idle_timeout) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    std::erase_if(list, [&](const auto& c) { return now - c->idle_since >= idle_timeout; });
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
}

}  // namespace failover::lb
