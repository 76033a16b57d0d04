// The client API of a store node (docs/store.md, "HTTP API"): the primary
// serves, a backup sends clients to the primary it knows or answers 503,
// and every write waits for its commit within write_timeout. The rules of
// parsing and of each reply are in kv_request.h; what is decided here is
// who answers and when.
#include <boost/asio/post.hpp>

#include <algorithm>

#include "net/url.h"
#include "store/kv_request.h"
#include "store/node.h"

namespace failover::store {
namespace asio = boost::asio;

asio::awaitable<std::optional<net::HttpResponse>> StoreNode::handle(net::HttpRequest& request) {
  const std::string& path = request.path;
  const core::TimePoint now = clock_.now();
  if (path == "/primary") {
    const auto no = replica_->read_refusal(now);
    co_return no ? unavailable_reply(no->reason) : net::HttpResponse::json(200, R"({"role":"primary"})");
  }
  if (path == "/replica") {
    const bool ok = replica_->role() == Role::kBackup && replica_->in_sync() && replica_->known_primary(now) &&
                    !disk_.full();
    co_return ok ? net::HttpResponse::json(200, R"({"role":"backup","in_sync":true})")
                 : unavailable_reply(std::string("not an in-sync backup: this node is ") + role_name(replica_->role()) +
                                     (replica_->in_sync() ? "" : ", out of in_sync") +
                                     (disk_.full() ? ", " + disk_.reason() : ""));
  }
  if (path.starts_with("/_checkpoint/")) co_return serve_checkpoint(request);
  if (path == "/admin/switchover") {
    net::HttpResponse answer = co_await switchover(request);
    co_return answer;
  }
  if (!path.starts_with("/kv/")) co_return std::nullopt;
  KvParse parsed = parse_kv_request_taking_body(request);
  if (auto* refused = std::get_if<net::HttpResponse>(&parsed)) co_return std::move(*refused);
  KvRequest& r = std::get<KvRequest>(parsed);
  if (!r.stale && (r.method == KvMethod::kGet || r.method == KvMethod::kList)) {
    // Every write committed when the read began must be in what it reads:
    // a new primary may still be applying those of the old one (a large
    // batch is applied off the io thread).
    const std::uint64_t committed = replica_->commit_seq();
    ++apply_waiters_;
    while (applied_seq_ < committed && !stop_.stop_requested()) co_await applied_changed_.wait();
    --apply_waiters_;
  }
  switch (r.method) {
    case KvMethod::kGet: {
      net::HttpResponse answer = co_await read(request, r.key, r.stale);
      co_return answer;
    }
    case KvMethod::kList: {
      net::HttpResponse answer = co_await list(request, r);
      co_return answer;
    }
    case KvMethod::kPut:
    case KvMethod::kDelete: {
      net::HttpResponse answer = co_await write(request, std::move(r));
      co_return answer;
    }
  }
  co_return std::nullopt;
}

net::HttpResponse StoreNode::elsewhere(const net::HttpRequest& request, const Refusal& why) {
  const core::TimePoint now = clock_.now();
  if (why.kind == Refusal::Kind::kNotPrimary) {
    // A 307 only to a primary heard from lately: sending clients to a dead
    // one wastes the failover they are waiting for.
    if (const auto primary = replica_->known_primary(now); primary && config_.peers.contains(*primary)) {
      ++counters_.redirects;
      return redirect_reply(*primary, config_.peers.at(*primary).listen, request);
    }
    ++counters_.unavailable;
    return unavailable_reply(std::string("no primary known to this ") + role_name(replica_->role()));
  }
  ++counters_.unavailable;
  return unavailable_reply(why.reason);
}

asio::awaitable<net::HttpResponse> StoreNode::read(const net::HttpRequest& request, const std::string& key, bool stale) {
  if (!stale)
    if (auto no = replica_->read_refusal(clock_.now())) co_return elsewhere(request, *no);
  if (!large_keys_.contains(key)) co_return read_reply(request, key, stale, kv_->get(key));
  // Reading 64 MiB out of RocksDB takes ~200 ms here: on background_, or
  // the beacons would wait and the lease lapse under the read.
  ++reads_in_background_;
  core::Result<std::optional<VersionedValue>> got = core::Error::internal("not read");
  co_await core::run_on(background_, io_.get_executor(), [&got, kv = kv_.get(), &key] { got = kv->get(key); });
  --reads_in_background_;
  install_when_idle();
  co_return read_reply(request, key, stale, std::move(got));
}

net::HttpResponse StoreNode::read_reply(const net::HttpRequest& request, const std::string& key, bool stale,
                                        core::Result<std::optional<VersionedValue>> got) {
  // The lease is checked after the read: a read that straddled its end may
  // have missed a write of a new primary.
  if (!stale)
    if (auto no = replica_->read_refusal(clock_.now())) return elsewhere(request, *no);
  if (!got) return net::HttpResponse::error(500, got.error().to_string());
  ++counters_.reads;
  if (!*got) return not_found_reply(key);
  // Known large from now on (a state written before large keys were kept
  // has no record of them).
  if ((*got)->value.size() >= kLargeValueBytes) large_keys_.insert(key);
  return value_reply(std::move((*got)->value), (*got)->version);
}

// A page's items for list_reply: large values left out (their size only).
static std::vector<ListItem> list_items(KvPage& page) {
  std::vector<ListItem> items;
  items.reserve(page.items.size());
  for (KvItem& i : page.items) {
    if (i.value.size() >= kLargeValueBytes)
      items.push_back({std::move(i.key), i.version, "", i.value.size()});
    else
      items.push_back({std::move(i.key), i.version, std::move(i.value)});
  }
  return items;
}

asio::awaitable<net::HttpResponse> StoreNode::list(const net::HttpRequest& request, const KvRequest& r) {
  if (!r.stale)
    if (auto no = replica_->read_refusal(clock_.now())) co_return elsewhere(request, *no);
  // RocksDB reads a large value whole when its iterator passes it (7.8 has
  // no keys-only iteration over blobs): a page that may hold one is read on
  // background_, as a GET of a large key is.
  const bool large = std::any_of(large_keys_.begin(), large_keys_.end(),
                                 [&](const std::string& key) { return key.starts_with(r.prefix); });
  core::Result<KvPage> page = core::Error::internal("not read");
  std::vector<ListItem> items;
  if (!large) {
    page = kv_->list(r.prefix, r.after, r.limit);
    if (page) items = list_items(*page);
  } else {
    ++reads_in_background_;
    co_await core::run_on(background_, io_.get_executor(), [&page, &items, kv = kv_.get(), &r] {
      page = kv->list(r.prefix, r.after, r.limit);
      if (page) items = list_items(*page);
    });
    --reads_in_background_;
    install_when_idle();
  }
  if (!r.stale)
    if (auto no = replica_->read_refusal(clock_.now())) co_return elsewhere(request, *no);
  if (!page) co_return net::HttpResponse::error(500, page.error().to_string());
  ++counters_.reads;
  co_return list_reply(items, page->more);
}

// The version a key has once every write in flight lands: a conditional
// write checks against that, not against the applied state alone.
std::optional<std::uint64_t> StoreNode::version_of(const std::string& key, bool& unknown) const {
  unknown = false;
  if (auto it = pending_.find(key); it != pending_.end()) {
    const Waiter& w = *it->second;
    if (w.op == Op::kDelete) return std::nullopt;
    unknown = w.seq == 0;  // queued for the next group: no version yet
    return w.seq;
  }
  core::Result<std::optional<std::uint64_t>> got = kv_->version(key);  // a large value is not read
  return got ? *got : std::nullopt;
}

asio::awaitable<net::HttpResponse> StoreNode::write(const net::HttpRequest& request, KvRequest r) {
  const core::TimePoint now = clock_.now();
  if (replica_->role() != Role::kPrimary) co_return elsewhere(request, Refusal{Refusal::Kind::kNotPrimary, ""});

  std::shared_ptr<Waiter> waiter;
  const Op op = r.method == KvMethod::kDelete ? Op::kDelete : Op::kPut;
  std::uint32_t fingerprint = 0;
  if (!r.idempotency_key.empty()) {
    // A retry is the same request again; a key reused for another one is
    // the client's bug, refused rather than answered with the first
    // request's outcome (as the IETF Idempotency-Key draft says: 422).
    fingerprint = request_fingerprint(op, r.key, r.value);
    if (auto it = pending_idempotency_.find(r.idempotency_key); it != pending_idempotency_.end()) {
      if (it->second->fingerprint != fingerprint) co_return idempotency_key_reused(r.idempotency_key);
      waiter = it->second;  // a retry of a write still in flight: share its outcome
      if (waiter->done.is_set() && waiter->status == 0) {
        // Its first try was answered 503 at its deadline: this try waits
        // for the same outcome, with a deadline of its own.
        waiter->done = core::OneShotEvent(io_.get_executor());
        waiter->deadline = now + config_.write_timeout;
        write_deadlines_.push_back(waiter);
      }
    } else if (auto done = kv_->idempotent(r.idempotency_key); done && *done) {
      if ((*done)->fingerprint != 0 && (*done)->fingerprint != fingerprint)
        co_return idempotency_key_reused(r.idempotency_key);
      co_return write_reply(r.key, (*done)->version, (*done)->epoch, (*done)->seq);
    }
  }
  if (!waiter && !disk_.admit(r.key.size() + r.value.size())) co_return disk_full_reply();
  if (!waiter) {
    // A plain PUT needs no current version: skipping the lookup saves a
    // RocksDB read on the hottest path (5% of the primary's CPU at c=64).
    bool unknown = false;
    std::optional<std::uint64_t> current;
    if (r.precondition.any() || r.method == KvMethod::kDelete) current = version_of(r.key, unknown);
    if (r.precondition.any() && (unknown || !precondition_holds(r.precondition, current)))
      co_return precondition_failed_reply(current);
    if (r.method == KvMethod::kDelete && !current) co_return not_found_reply(r.key);
    waiter = std::make_shared<Waiter>(io_.get_executor());
    waiter->deadline = now + config_.write_timeout;
    write_deadlines_.push_back(waiter);
    waiter->key = r.key;
    waiter->idempotency_key = r.idempotency_key;
    waiter->fingerprint = fingerprint;
    waiter->op = op;
    waiter->removed_version = r.method == KvMethod::kDelete ? current.value_or(0) : 0;
    pending_[r.key] = waiter;
    if (!r.idempotency_key.empty()) pending_idempotency_[r.idempotency_key] = waiter;
    queued_.push_back({Proposal{waiter->op, r.key, std::move(r.value), r.idempotency_key}, waiter});
    // Every write that arrives before the io thread turns joins one group:
    // one propose, one fsync, one replication round trip.
    post_flush();
  }
  // A retry of a write in flight shares its waiter, its deadline included.
  std::shared_ptr<Waiter> keep = waiter;
  co_await keep->done.wait();
  if (keep->status == 0) {
    ++counters_.unavailable;
    co_return unavailable_reply("not committed within write_timeout " + std::to_string(config_.write_timeout.count()) +
                                "ms; the write may still be applied (retry with the same Idempotency-Key)");
  }
  if (keep->status != 200) {
    ++counters_.unavailable;
    co_return unavailable_reply(keep->reason);
  }
  histograms_.observe_write(now, clock_.now());
  const std::uint64_t version = keep->op == Op::kDelete ? keep->removed_version : keep->seq;
  co_return write_reply(keep->key, version, keep->epoch, keep->seq);
}

// Short of disk: 503 (retry, soon on another node) while an in-sync
// backup can take the role, 507 when none can. Either way the write was
// refused before anything was done with it.
net::HttpResponse StoreNode::disk_full_reply() const {
  // Not full yet, but this write would take it below min_free_disk (a
  // burst since the last measurement): no handover is coming for it.
  if (!disk_.full()) return insufficient_storage_reply(disk_.reason());
  const auto& record = replica_->record();
  const bool handing_over = !replica_->switching_to().empty() ||
                            (record && std::any_of(record->in_sync.begin(), record->in_sync.end(),
                                                   [&](const arbiter::Member& m) { return m.node != config_.node; }));
  if (handing_over) return unavailable_reply(disk_.reason() + "; handing the role to an in-sync backup");
  return insufficient_storage_reply(disk_.reason());
}

void StoreNode::expire_writes(core::TimePoint now) {
  while (!write_deadlines_.empty()) {
    Waiter& w = *write_deadlines_.front();
    if (!w.done.is_set()) {
      if (w.deadline > now) return;
      w.done.set();  // it stays in waiting_: it may still commit
    }
    write_deadlines_.pop_front();
  }
}

void StoreNode::post_flush() {
  if (flush_posted_ || queued_.empty()) return;
  flush_posted_ = true;
  asio::post(io_, [this] { flush_writes(); });
}

void StoreNode::flush_writes() {
  flush_posted_ = false;
  if (queued_.empty()) return;
  std::vector<Write> group;
  group.swap(queued_);
  std::vector<Proposal> proposals;
  proposals.reserve(group.size());
  for (Write& w : group) proposals.push_back(std::move(w.proposal));
  auto proposed = replica_->propose(clock_.now(), std::move(proposals));
  if (const auto* no = std::get_if<Refusal>(&proposed)) {
    for (Write& w : group) {
      forget_pending(*w.waiter);
      w.waiter->fail(503, no->reason);
      ++counters_.writes_failed;
    }
    return;
  }
  auto& p = std::get<Replica::Proposed>(proposed);
  ++counters_.groups;
  for (std::size_t i = 0; i < group.size(); ++i) {
    Waiter& w = *group[i].waiter;
    w.seq = p.first_seq + i;
    w.epoch = replica_->epoch();
    waiting_[w.seq] = group[i].waiter;
  }
  run(std::move(p.actions));
}

asio::awaitable<net::HttpResponse> StoreNode::switchover(const net::HttpRequest& request) {
  if (request.method != "POST") {
    net::HttpResponse r = net::HttpResponse::error(405, "POST /admin/switchover?to=NODE");
    r.headers.emplace_back("Allow", "POST");
    co_return r;
  }
  std::string target;
  for (const auto& [name, value] : net::split_query(request.query))
    if (name == "to") target = net::percent_decode(value).value_or("");
  if (target.empty()) co_return net::HttpResponse::error(400, "which node? POST /admin/switchover?to=NODE");
  if (replica_->role() != Role::kPrimary) {
    net::HttpResponse r = net::HttpResponse::error(
        409, std::string("only the primary hands its role over; this node is ") + role_name(replica_->role()));
    if (const auto primary = replica_->known_primary(clock_.now())) r.headers.emplace_back("X-Primary", *primary);
    co_return r;
  }
  const core::TimePoint started = clock_.now();
  core::Result<Actions> begun = replica_->switchover(started, target);
  if (!begun) co_return net::HttpResponse::error(begun.error().code == core::ErrorCode::kConflict ? 409 : 400,
                                                 begun.error().message);
  run(std::move(*begun));
  // Until this node has stepped down or given up (switchover_timeout):
  // either happens inside a run().
  ++switchover_waiters_;
  while (replica_->switching_to() == target && !stop_.stop_requested()) co_await replica_ran_.wait();
  --switchover_waiters_;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - started);
  if (replica_->role() == Role::kPrimary)
    co_return net::HttpResponse::error(503, "the switchover to " + target + " was abandoned (see the log); " +
                                                "this node is still primary");
  const auto& record = replica_->record();
  if (!record || record->primary != target)
    co_return net::HttpResponse::error(503, std::string("the switchover to ") + target + " did not complete: this node is " +
                                                role_name(replica_->role()) + " (see the log)");
  co_return net::HttpResponse::json(
      200, "{\"from\":" + net::json_quote(config_.node) + ",\"to\":" + net::json_quote(target) +
               ",\"epoch\":" + std::to_string(replica_->epoch()) + ",\"took_ms\":" + std::to_string(took.count()) + "}");
}

}  // namespace failover::store
