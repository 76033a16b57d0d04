#include "registry/etcd_backend.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>
#include <spdlog/spdlog.h>
#include <unordered_map>

#include "core/async_event.h"
#include "etcd/client.h"
#include "registry/etcd_keys.h"

namespace failover::registry {

namespace asio = boost::asio;
namespace keys = etcd_keys;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kCallTimeout{3'000};
constexpr milliseconds kMirrorWait{1'000};   // a write waits this long at most to show in queries
constexpr milliseconds kResyncPause{500};    // after the watch broke
constexpr std::size_t kMaxBatch = 1'000;     // keepalives in one request (etcd answers 1000 in ~8 ms)

std::int64_t whole_seconds(milliseconds d) { return std::max<std::int64_t>(1, (d.count() + 999) / 1000); }

// The keepalives queued while the previous request was in flight, sent as
// one request: etcd's gateway costs 20 times less per keepalive that way.
struct KeepaliveBatch {
  std::vector<etcd::LeaseId> ids;
  std::unordered_map<etcd::LeaseId, std::int64_t> ttl;  // after the reply; 0: lease gone
  bool failed = false;
  core::OneShotEvent done;
  explicit KeepaliveBatch(asio::any_io_executor ex) : done(ex) {}
};

}  // namespace

struct EtcdBackend::Impl {
  asio::io_context& io;
  const core::Clock& clock;
  Registry& mirror;
  const RegistryConfig& config;
  std::string prefix;
  etcd::Client client;

  struct Leases {
    etcd::LeaseId alive = 0;  // ttl: healthy while it lives
    etcd::LeaseId spec = 0;   // ttl + deregister_after: the instance key
    InstanceSpec instance;
  };
  std::unordered_map<std::string, Leases> leases;  // "service/id" -> leases this node knows

  // The mirror: instances seen in etcd, and which of them have an alive key.
  std::set<std::pair<std::string, std::string>> alive;
  etcd::Revision applied = 0;  // the revision the mirror has reached
  core::AsyncCondition mirror_moved;

  std::shared_ptr<KeepaliveBatch> open_batch;
  bool batch_in_flight = false;
  core::AsyncCondition batch_ready;

  Impl(asio::io_context& io_, const core::Clock& clk, Registry& m, const RegistryConfig& c)
      : io(io_), clock(clk), mirror(m), config(c), prefix(c.backend.prefix),
        client(io_.get_executor(), c.backend.endpoints, {.request_timeout = kCallTimeout, .watch_head_timeout = kCallTimeout}),
        mirror_moved(io_.get_executor()), batch_ready(io_.get_executor()) {}

  static std::string key_of(const std::string& service, const std::string& id) { return service + '/' + id; }

  // Waits until the mirror has applied `revision` (bounded): a client that
  // registers and then queries sees its own write.
  asio::awaitable<void> mirror_reached(etcd::Revision revision) {
    using namespace asio::experimental::awaitable_operators;
    const core::TimePoint limit = clock.now() + kMirrorWait;
    while (applied < revision && clock.now() < limit) {
      // Named operands: GCC 12 mishandles some temporaries in a co_await expression.
      auto moved = mirror_moved.wait();
      auto expired = clock.sleep_until(limit);
      co_await (std::move(moved) || std::move(expired));
    }
  }

  milliseconds deregister_after(const InstanceSpec& spec) const {
    return config.options.deregister_after.count() > 0 ? config.options.deregister_after : 3 * spec.ttl;
  }

  asio::awaitable<etcd::LeaseId> grant(std::int64_t seconds) {
    const auto g = co_await client.lease_grant(seconds);
    co_return g ? g->id : 0;
  }

  asio::awaitable<Status> put(const std::string& service, const std::string& id, const InstanceSpec& spec) {
    const bool known = mirror.query(service, false).has_value();
    const bool existed = mirror_has(service, id);  // before: the watch may show the write first
    if (!known && mirror.services().size() >= config.options.max_services) co_return Status::kTooMany;
    Leases l;
    l.instance = spec;
    l.alive = co_await grant(whole_seconds(spec.ttl));
    l.spec = 0;  // one co_await a statement: GCC 12 mishandles them in a ?: expression
    if (l.alive) l.spec = co_await grant(whole_seconds(spec.ttl + deregister_after(spec)));
    if (!l.alive || !l.spec) co_return Status::kUnavailable;
    const std::string value = keys::encode_instance_value({spec.address, spec.port, spec.ttl.count(), spec.meta});
    const std::vector<etcd::TxnOp> ops{
        {etcd::TxnOp::Kind::kPut, keys::instance_key(prefix, service, id), value, l.spec},
        {etcd::TxnOp::Kind::kPut, keys::alive_key(prefix, service, id), "", l.alive}};
    const auto reply = co_await client.txn(ops);
    if (!reply) co_return Status::kUnavailable;
    // The replaced leases would delete the new keys when they ran out.
    const auto old = leases.find(key_of(service, id));
    if (old != leases.end()) {
      for (etcd::LeaseId gone : {old->second.alive, old->second.spec}) (void)co_await client.lease_revoke(gone);
    }
    leases[key_of(service, id)] = l;
    co_await mirror_reached(reply->header.revision);
    co_return existed ? Status::kOk : Status::kCreated;
  }

  bool mirror_has(const std::string& service, const std::string& id) const {
    const auto view = mirror.query(service, false);
    if (!view) return false;
    for (const Instance* i : view->instances)
      if (i->id == id) return true;
    return false;
  }

  // The leases of an instance another node registered: read from its keys.
  asio::awaitable<std::optional<Leases>> find_leases(const std::string& service, const std::string& id) {
    if (auto it = leases.find(key_of(service, id)); it != leases.end()) co_return it->second;
    const auto range = co_await client.range_prefix(keys::service_prefix(prefix, service));
    if (!range) co_return std::nullopt;
    Leases l;
    for (const auto& kv : range->kvs) {
      auto k = keys::split_key(prefix, kv.key);
      if (!k || k->id != id) continue;
      if (k->kind == keys::KeyKind::kAlive) l.alive = kv.lease;
      if (k->kind == keys::KeyKind::kInstance) {
        l.spec = kv.lease;
        if (auto v = keys::decode_instance_value(kv.value))
          l.instance = {v->address, v->port, milliseconds(v->ttl_ms), v->meta};
      }
    }
    if (!l.spec) co_return Leases{};  // no instance key: unknown
    leases[key_of(service, id)] = l;
    co_return l;
  }

  // Queues `ids` for the next keepalive request and waits for its answer.
  asio::awaitable<std::shared_ptr<KeepaliveBatch>> keepalive(std::vector<etcd::LeaseId> ids) {
    if (!open_batch || open_batch->ids.size() >= kMaxBatch)
      open_batch = std::make_shared<KeepaliveBatch>(io.get_executor());
    auto batch = open_batch;
    batch->ids.insert(batch->ids.end(), ids.begin(), ids.end());
    batch_ready.notify_all();
    co_await batch->done.wait();
    co_return batch;
  }

  // Sends one batch at a time; what queues meanwhile goes in the next.
  asio::awaitable<void> keepalive_sender() {
    for (;;) {
      while (!open_batch || open_batch->ids.empty()) co_await batch_ready.wait();
      auto batch = std::move(open_batch);
      open_batch.reset();
      const auto replies = co_await client.lease_keepalive(batch->ids);
      if (replies) {
        for (const auto& k : *replies) batch->ttl[k.id] = k.ttl;
      } else {
        batch->failed = true;
      }
      batch->done.set();
    }
  }

  asio::awaitable<Status> heartbeat(const std::string& service, const std::string& id) {
    std::optional<Leases> l = co_await find_leases(service, id);
    if (!l) co_return Status::kUnavailable;
    if (!l->spec) co_return Status::kNotFound;
    std::vector<etcd::LeaseId> ids{l->alive, l->spec};
    auto batch = co_await keepalive(std::move(ids));
    // etcd's gateway may leave the end of a batch unanswered (it drops the
    // unread rest of a request body once it starts replying): a lease with
    // no reply line was not renewed, so say so rather than "ok".
    if (batch->failed || !batch->ttl.contains(l->alive) || !batch->ttl.contains(l->spec))
      co_return Status::kUnavailable;
    if (batch->ttl[l->spec] <= 0) {  // the instance key is gone (removed, or expired long ago)
      leases.erase(key_of(service, id));
      co_return Status::kNotFound;
    }
    // A live lease whose key is gone (deleted by hand) also needs a new key.
    if (batch->ttl[l->alive] <= 0 || !alive.contains({service, id})) {
      // Unhealthy (its ttl passed, or a failed check): a heartbeat revives it.
      l->alive = co_await grant(whole_seconds(l->instance.ttl));
      if (!l->alive) co_return Status::kUnavailable;
      const auto reply = co_await client.put(keys::alive_key(prefix, service, id), "", l->alive);
      if (!reply) co_return Status::kUnavailable;
      leases[key_of(service, id)] = *l;
      co_await mirror_reached(reply->header.revision);
    }
    co_return Status::kOk;
  }

  asio::awaitable<Status> remove(const std::string& service, const std::string& id) {
    const bool existed = mirror_has(service, id);  // before: the watch may apply the delete first
    const std::vector<etcd::TxnOp> ops{{etcd::TxnOp::Kind::kDelete, keys::instance_key(prefix, service, id), "", 0},
                                       {etcd::TxnOp::Kind::kDelete, keys::alive_key(prefix, service, id), "", 0}};
    const auto reply = co_await client.txn(ops);
    if (!reply) co_return Status::kUnavailable;
    if (auto it = leases.find(key_of(service, id)); it != leases.end()) {
      for (etcd::LeaseId gone : {it->second.alive, it->second.spec}) (void)co_await client.lease_revoke(gone);
      leases.erase(key_of(service, id));
    }
    co_await mirror_reached(reply->header.revision);
    co_return existed ? Status::kOk : Status::kNotFound;
  }

  // Revokes the alive lease (etcd deletes its key): the next heartbeat then
  // finds the lease gone and puts a new one, as after an expiry.
  asio::awaitable<Status> fail(const std::string& service, const std::string& id) {
    std::optional<Leases> l = co_await find_leases(service, id);
    if (!l) co_return Status::kUnavailable;
    if (!l->spec) co_return Status::kNotFound;
    const auto revoked = co_await client.lease_revoke(l->alive);
    if (revoked.is(core::ErrorCode::kUnavailable) || revoked.is(core::ErrorCode::kTimeout)) co_return Status::kUnavailable;
    if (revoked) co_await mirror_reached(revoked->header.revision);
    co_return Status::kOk;  // kNotFound: the lease had run out already
  }

  // ------------------------------------------------------------ the mirror

  void apply_instance(const std::string& service, const std::string& id, const keys::InstanceValue& v) {
    Change c;
    c.service = service;
    c.id = id;
    c.spec = {v.address, v.port, milliseconds(v.ttl_ms), v.meta};
    c.lease_left = alive.contains({service, id}) ? c.spec.ttl : milliseconds(-1);
    mirror.apply(c);
  }

  void set_health(const std::string& service, const std::string& id, bool healthy) {
    if (healthy) alive.insert({service, id});
    else alive.erase({service, id});
    const auto view = mirror.query(service, false);
    if (!view) return;
    for (const Instance* i : view->instances) {
      if (i->id != id) continue;
      Change c{Change::Kind::kPut, service, id, i->spec, healthy ? i->spec.ttl : milliseconds(-1)};
      mirror.apply(c);
      return;
    }
  }

  void apply_event(const etcd::Event& e) {
    auto k = keys::split_key(prefix, e.kv.key);
    if (!k) return;
    if (k->kind == keys::KeyKind::kAlive) {
      set_health(k->service, k->id, e.type == etcd::Event::Type::kPut);
    } else if (e.type == etcd::Event::Type::kDelete) {
      mirror.apply({Change::Kind::kRemove, k->service, k->id, {}, milliseconds(0)});
    } else if (auto v = keys::decode_instance_value(e.kv.value)) {
      apply_instance(k->service, k->id, *v);
    }
  }

  // Loads everything under the prefix into the mirror (dropping what etcd
  // no longer has) and returns the revision it was read at; 0 on failure.
  asio::awaitable<etcd::Revision> load() {
    const auto range = co_await client.range_prefix(keys::services_prefix(prefix));
    if (!range) co_return 0;
    alive.clear();
    std::set<std::pair<std::string, std::string>> present;
    for (const auto& kv : range->kvs)
      if (auto k = keys::split_key(prefix, kv.key); k && k->kind == keys::KeyKind::kAlive) alive.insert({k->service, k->id});
    for (const auto& kv : range->kvs) {
      auto k = keys::split_key(prefix, kv.key);
      if (!k || k->kind != keys::KeyKind::kInstance) continue;
      if (auto v = keys::decode_instance_value(kv.value)) {
        apply_instance(k->service, k->id, *v);
        present.insert({k->service, k->id});
      }
    }
    for (const Change& c : mirror.dump())
      if (!present.contains({c.service, c.id})) mirror.apply({Change::Kind::kRemove, c.service, c.id, {}, milliseconds(0)});
    applied = range->header.revision;
    mirror_moved.notify_all();
    co_return applied;
  }

  // Load, then follow the watch; after any break, load again and resume.
  asio::awaitable<void> follow() {
    for (;;) {
      const etcd::Revision from = co_await load();
      if (from == 0) {
        spdlog::warn("etcd: cannot read {} ({}), retrying", prefix, client.last_error());
        co_await clock.sleep_for(kResyncPause);
        continue;
      }
      const std::string where = client.current();
      const auto ended = co_await client.watch(keys::services_prefix(prefix), from + 1, [&](const etcd::WatchMessage& msg) {
        for (const auto& ev : msg.events) apply_event(ev);
        if (msg.header.revision > applied) applied = msg.header.revision;
        mirror_moved.notify_all();
        return true;
      });
      spdlog::warn("etcd: watch on {} ended ({}), reloading", where, ended ? "stopped" : ended.error().message);
      co_await clock.sleep_for(kResyncPause);
    }
  }
};

EtcdBackend::EtcdBackend(asio::io_context& io, Registry& mirror, const RegistryConfig& config,
                         const core::Clock& clock)
    : impl_(std::make_shared<Impl>(io, clock, mirror, config)) {}

EtcdBackend::~EtcdBackend() = default;

void EtcdBackend::start() {
  asio::co_spawn(impl_->io, [impl = impl_]() { return impl->follow(); }, asio::detached);
  asio::co_spawn(impl_->io, [impl = impl_]() { return impl->keepalive_sender(); }, asio::detached);
}

asio::awaitable<Status> EtcdBackend::put(const std::string& service, const std::string& id, const InstanceSpec& spec) {
  co_return co_await impl_->put(service, id, spec);
}
asio::awaitable<Status> EtcdBackend::heartbeat(const std::string& service, const std::string& id) {
  co_return co_await impl_->heartbeat(service, id);
}
asio::awaitable<Status> EtcdBackend::remove(const std::string& service, const std::string& id) {
  co_return co_await impl_->remove(service, id);
}
asio::awaitable<Status> EtcdBackend::fail(const std::string& service, const std::string& id) {
  co_return co_await impl_->fail(service, id);
}
std::string EtcdBackend::last_error() const { return impl_->client.last_error(); }

}  // namespace failover::registry
