#include "registry/replication.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "core/async_event.h"
#include "net/http_client.h"
#include "net/url.h"
#include "registry/api_parse.h"

namespace failover::registry {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr std::size_t kMaxBatch = 2'000;          // changes in one POST
constexpr milliseconds kSendTimeout{2'000};
constexpr milliseconds kRetryMin{100}, kRetryMax{2'000};

std::string key_of(const Change& c) { return c.service + '/' + c.id; }

}  // namespace

struct Replication::Peer {
  PeerState state;
  net::HttpUrl url;
  // Pending changes, one per instance (the latest), in first-queued order.
  std::unordered_map<std::string, Change> pending;
  std::vector<std::string> order;
  core::AsyncCondition wake;  // the sender parks on it when nothing is pending
  explicit Peer(asio::io_context& io) : wake(io.get_executor()) {}
};

Replication::Replication(asio::io_context& io, std::vector<std::string> peer_urls, std::string token,
                         const core::Clock& clock)
    : io_(io), clock_(clock), token_(std::move(token)) {
  for (auto& u : peer_urls) {
    auto peer = std::make_unique<Peer>(io_);
    peer->state.url = u;
    peer->url = net::parse_http_url(u).value();  // checked by the config
    peers_.push_back(std::move(peer));
  }
}

Replication::~Replication() = default;

void Replication::send(const Change& change) {
  for (auto& p : peers_) {
    auto [it, fresh] = p->pending.insert_or_assign(key_of(change), change);
    if (fresh) p->order.push_back(it->first);
    p->wake.notify_all();
  }
}

void Replication::start() {
  for (auto& p : peers_)
    asio::co_spawn(io_, sender(*p), asio::detached);
}

// Sends what is pending in batches; parks when there is nothing; backs off
// while the peer fails, keeping (and coalescing) what it could not send.
asio::awaitable<void> Replication::sender(Peer& peer) {
  // The executor first: GCC 12 destroys the braced default options twice
  // when the constructor call holds a co_await.
  const auto executor = co_await asio::this_coro::executor;
  net::HttpClient client(executor, {}, clock_);
  milliseconds backoff = kRetryMin;
  for (;;) {
    if (peer.order.empty()) {
      co_await peer.wake.wait();
      continue;
    }
    std::vector<Change> batch;
    const std::size_t n = std::min(peer.order.size(), kMaxBatch);
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto it = peer.pending.find(peer.order[i]);
      batch.push_back(std::move(it->second));
      peer.pending.erase(it);
    }
    peer.order.erase(peer.order.begin(), peer.order.begin() + static_cast<std::ptrdiff_t>(n));

    net::ClientRequest req{"POST", peer.url.base_path + "/v1/internal/replicate", {}, changes_json(batch)};
    if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
    const core::Result<net::ClientResponse> r =
        co_await client.request(peer.url.host_port, std::move(req), kSendTimeout);
    if (r && r->status == 200) {
      if (!peer.state.reachable) spdlog::info("replication: peer {} reachable", peer.state.url);
      peer.state.reachable = true;
      peer.state.sent += batch.size();
      backoff = kRetryMin;
      continue;
    }
    const std::string why = r ? "status " + std::to_string(r->status) + ": " + r->body : r.error().message;
    if (peer.state.reachable || peer.state.failures == 0)
      spdlog::warn("replication: peer {} failed: {}", peer.state.url, why);
    peer.state.reachable = false;
    peer.state.last_error = why;
    ++peer.state.failures;
    // Put the batch back unless newer changes for the same instances came
    // meanwhile (those win).
    for (Change& c : batch) {
      auto [it, fresh] = peer.pending.try_emplace(key_of(c), std::move(c));
      if (fresh) peer.order.push_back(it->first);
    }
    co_await clock_.sleep_for(backoff);
    backoff = std::min(backoff * 2, kRetryMax);
  }
}

asio::awaitable<void> Replication::fill(Registry& registry, milliseconds timeout) {
  // The executor first: GCC 12 destroys the braced default options twice
  // when the constructor call holds a co_await.
  const auto executor = co_await asio::this_coro::executor;
  net::HttpClient client(executor, {}, clock_);
  for (auto& p : peers_) {
    net::ClientRequest req{"GET", p->url.base_path + "/v1/internal/dump", {}, {}};
    const core::Result<net::ClientResponse> r = co_await client.request(p->url.host_port, std::move(req), timeout);
    if (!r || r->status != 200) {
      spdlog::info("fill: peer {} did not answer ({}), going on", p->state.url,
                   r ? "status " + std::to_string(r->status) : r.error().message);
      continue;
    }
    InstanceLimits any;  // a peer's values passed its own limits; take them as they are
    any.min_ttl = milliseconds(1);
    const auto changes = parse_changes(r->body, any);
    if (!changes) {
      spdlog::warn("fill: peer {} sent a bad dump: {}", p->state.url, changes.error().message);
      continue;
    }
    for (const Change& c : *changes) registry.apply(c);
    spdlog::info("fill: {} instances from peer {}", changes->size(), p->state.url);
  }
}

std::vector<Replication::PeerState> Replication::peers() const {
  std::vector<PeerState> out;
  for (const auto& p : peers_) {
    out.push_back(p->state);
    out.back().pending = p->order.size();
  }
  return out;
}

}  // namespace failover::registry
