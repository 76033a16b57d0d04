#include "client/system_resolver.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace failover::client {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS)
      throw std::runtime_error(std::string("c-ares: ") + ares_strerror(rc));
  });
}

// A channel that is destroyed on every path out.
struct Channel {
  ares_channel ch = nullptr;
  ~Channel() {
    if (ch) ares_destroy(ch);
  }
};

int make_channel(Channel& c, const std::string& servers_csv, milliseconds timeout) {
  ares_options options{};
  // Two tries, each half the budget: one lost UDP packet should not cost the
  // whole answer, and our own deadline bounds the total anyway.
  options.timeout = static_cast<int>(std::max<long long>(100, timeout.count() / 2));
  options.tries = 2;
  int rc = ares_init_options(&c.ch, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) return rc;
  if (!servers_csv.empty()) rc = ares_set_servers_ports_csv(c.ch, servers_csv.c_str());
  return rc;
}

struct Pending {
  bool done = false;
  int status = ARES_SUCCESS;
  ares_addrinfo* result = nullptr;
};

void on_done(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* p = static_cast<Pending*>(arg);
  p->done = true;
  p->status = status;
  p->result = result;
}

// Runs the channel until the query ends or `deadline` passes (then the
// query is cancelled, which also ends it).
void drive(ares_channel ch, Pending& p, Clock::time_point deadline) {
  while (!p.done) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      ares_cancel(ch);
      return;
    }
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t n = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const bool r = ARES_GETSOCK_READABLE(bits, i), w = ARES_GETSOCK_WRITABLE(bits, i);
      if (!r && !w) continue;
      fds[n++] = pollfd{socks[i], static_cast<short>((r ? POLLIN : 0) | (w ? POLLOUT : 0)), 0};
    }
    timeval max_wait{static_cast<time_t>(left.count() / 1000), static_cast<suseconds_t>(left.count() % 1000 * 1000)};
    timeval tv{};
    const timeval* wait = ares_timeout(ch, &max_wait, &tv);
    const int ms = static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000) + 1;
    const int ready = ::poll(fds, n, ms);
    if (ready <= 0) {
      ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // lets c-ares handle its timeouts
      continue;
    }
    for (nfds_t i = 0; i < n; ++i) {
      const bool r = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
      const bool w = fds[i].revents & POLLOUT;
      if (r || w) ares_process_fd(ch, r ? fds[i].fd : ARES_SOCKET_BAD, w ? fds[i].fd : ARES_SOCKET_BAD);
    }
  }
}

void collect(const ares_addrinfo* result, SystemAnswer& out) {
  int ttl = -1;
  for (const ares_addrinfo_node* node = result->nodes; node; node = node->ai_next) {
    char text[INET6_ADDRSTRLEN];
    std::vector<std::string>* list = nullptr;
    if (node->ai_family == AF_INET) {
      const auto* sa = reinterpret_cast<const sockaddr_in*>(node->ai_addr);
      if (inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text)) list = &out.ips;
    } else if (node->ai_family == AF_INET6) {
      const auto* sa = reinterpret_cast<const sockaddr_in6*>(node->ai_addr);
      if (inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text)) list = &out.ipsv6;
    }
    if (!list) continue;
    // getaddrinfo gives one node per socket type; keep each address once.
    if (std::find(list->begin(), list->end(), text) == list->end()) list->emplace_back(text);
    ttl = ttl < 0 ? node->ai_ttl : std::min(ttl, node->ai_ttl);
  }
  out.ttl = std::chrono::seconds(std::max(0, ttl));
}

}  // namespace

SystemResolver::SystemResolver(std::vector<std::string> servers, milliseconds timeout) : timeout_(timeout) {
  init_library();
  for (const auto& s : servers) {
    if (s.empty()) throw std::invalid_argument("empty DNS server address");
    if (!servers_csv_.empty()) servers_csv_ += ',';
    servers_csv_ += s;
  }
  // Ask c-ares now, at start-up, whether it takes the list, so that a typo
  // is an error then rather than a failed fallback during an outage.
  Channel c;
  if (const int rc = make_channel(c, servers_csv_, timeout_); rc != ARES_SUCCESS)
    throw std::invalid_argument("bad DNS server list \"" + servers_csv_ + "\": " + ares_strerror(rc));
}

core::Result<SystemAnswer> SystemResolver::resolve(const std::string& host) const {
  const auto deadline = Clock::now() + timeout_;
  Channel c;
  if (const int rc = make_channel(c, servers_csv_, timeout_); rc != ARES_SUCCESS)
    return core::Error::unavailable(std::string("c-ares: ") + ares_strerror(rc));
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  Pending p;
  ares_getaddrinfo(c.ch, host.c_str(), nullptr, &hints, on_done, &p);
  drive(c.ch, p, deadline);
  if (!p.done) ares_cancel(c.ch);  // the callback runs now, with ARES_ECANCELLED
  // Freed however this ends.
  const std::unique_ptr<ares_addrinfo, void (*)(ares_addrinfo*)> result(p.result, ares_freeaddrinfo);
  if (p.status == ARES_ECANCELLED && Clock::now() >= deadline)
    return core::Error::timeout("system resolver: timed out after " + std::to_string(timeout_.count()) + "ms");
  if (p.status == ARES_ENOTFOUND || p.status == ARES_ENODATA)
    return core::Error::not_found(std::string("system resolver: ") + ares_strerror(p.status));
  if (p.status != ARES_SUCCESS || !result)
    return core::Error::unavailable(std::string("system resolver: ") + ares_strerror(p.status));
  SystemAnswer out;
  collect(result.get(), out);
  if (out.ips.empty() && out.ipsv6.empty()) return core::Error::not_found("system resolver: no address");
  return out;
}

}  // namespace failover::client
