// Opening a node and carrying out the replica's actions. The HTTP API is in
// node_http.cc, /status and /metrics in node_status.cc.
#include "store/node.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>
#include <utility>
#include <spdlog/spdlog.h>

#include "net/endpoint.h"

namespace failover::store {
namespace asio = boost::asio;

namespace {
// Names the calling thread "store-apply" (top -H, /proc/PID/task) and puts
// it at SCHED_IDLE, where it runs only when no other thread of the host
// wants the CPU (see kBackupIdleApplyBacklog for when that is never).
void become_idle_applier() {
  pthread_setname_np(pthread_self(), "store-apply");
  const sched_param none{};
  if (const int err = pthread_setschedparam(pthread_self(), SCHED_IDLE, &none); err != 0)
    spdlog::warn("store: a backup's applies stay at normal CPU priority: SCHED_IDLE refused: {}", std::strerror(err));
}

// Entries kept in memory after they were applied, so a backup a little
// behind is fed without reading the log back.
constexpr std::size_t kKeepApplied = 4096;
constexpr std::size_t kKeepAppliedBytes = 64u << 20;  // large values: fewer than kKeepApplied are kept
constexpr std::size_t kAppendBytes = 16u << 20;       // one Append frame, unless one entry is larger
constexpr std::uint64_t kReadBytes = 4u << 20;
// What one SendAppend reads from the log at most: a link queues no more.
constexpr std::size_t kMaxQueuedFrameBytes = 64u << 20;

// Frames of about kAppendBytes carrying `entries` (in seq order), each
// continuing the one before (prev_seq), appended to `out`.
void encode_frames(std::string& out, const Append& header, std::span<const Entry* const> entries) {
  if (entries.empty()) return;
  std::size_t first = 0, bytes = 0;
  for (std::size_t i = 0; i <= entries.size(); ++i) {
    const std::size_t size =
        i < entries.size() ? entries[i]->key.size() + entries[i]->value.size() + entries[i]->idempotency_key.size() : 0;
    if (i < entries.size() && (i == first || bytes + size <= kAppendBytes)) {
      bytes += size;
      continue;
    }
    Append h = header;
    h.prev_seq = entries[first]->seq - 1;
    encode_append(out, h, entries.subspan(first, i - first));
    first = i;
    bytes = size;
  }
}

}  // namespace

StoreNode::StoreNode(asio::io_context& io, StoreConfig config, const core::Clock& clock, FileSystem& fs,
                     std::unique_ptr<arbiter::Arbiter> arbiter)
    : io_(io), config_(std::move(config)), clock_(clock), fs_(fs), arbiter_(std::move(arbiter)) {
  asio::post(backup_apply_, [] { become_idle_applier(); });  // before any batch: the pool runs in order
}

StoreNode::~StoreNode() { stop(); }

core::Result<void> StoreNode::open() {
  const Path dir(config_.data_dir);
  core::Result<NodeMeta> meta = load_or_create(fs_, dir);
  if (!meta) return meta.error();
  meta_ = *meta;
  core::Result<Log> log = Log::open(fs_, dir / "log", LogOptions{config_.log_segment_bytes});
  if (!log) return log.error();
  log_.emplace(std::move(*log));
  if (auto finished = finish_interrupted_install(); !finished) return finished.error();
  if (const auto damaged = log_->damaged_from()) {
    // The log lost entries it had acknowledged as durable: this copy is no
    // longer the one the record's in_sync names. A new storage_id makes
    // that true for the arbiter too, so it is never promoted on them; it
    // rejoins in_sync once it has them again from the primary.
    spdlog::error("store: the log is damaged from seq {} (checksum); this node leaves in_sync and repairs from its peer",
                  *damaged);
    meta_.storage_id = new_storage_id();
    if (auto saved = save(fs_, dir, meta_); !saved) return saved.error();
  }
  core::Result<std::unique_ptr<KvState>> kv = KvState::open((dir / "kv").string());
  if (!kv) return kv.error();
  kv_ = std::move(*kv);
  applied_seq_ = std::min(kv_->applied_seq(), log_->last_seq());
  for (std::string& key : kv_->large_keys()) large_keys_.insert(std::move(key));

  ReplicaConfig rc;
  rc.node = config_.node;
  for (const auto& [name, peer] : config_.peers) rc.peers.push_back(name);
  rc.heartbeat_interval = config_.heartbeat_interval;
  rc.heartbeat_timeout = config_.heartbeat_timeout;
  rc.lease = config_.lease;
  rc.strict = config_.strict;
  rc.record_retry = config_.heartbeat_interval;
  ReplicaStart start;
  start.storage_id = meta_.storage_id;
  start.cluster_id = meta_.cluster_id;
  // The log's own epochs count too: meta.json is saved behind the log's
  // writes, and a crash may have come between.
  start.highest_epoch = std::max(meta_.highest_epoch, log_->last_epoch());
  start.first_seq = log_->first_seq();
  start.last_seq = log_->last_seq();
  start.applied_seq = applied_seq_;
  start.epochs = log_->epochs();
  replica_ = std::make_unique<Replica>(rc, std::move(start), clock_.now());

  writer_ = std::make_unique<LogWriter>(
      *log_, LogWriter::Callbacks{
                 .on_durable = [this](std::uint64_t seq) {
                   asio::post(io_, [this, seq] { run(replica_->local_durable(clock_.now(), seq)); });
                 },
                 .on_truncated = [this](core::Result<std::vector<Entry>> cut) {
                   asio::post(io_, [this, ok = cut.ok(), n = cut ? cut->size() : 0] {
                     if (!ok) return;  // a refused truncation is followed by on_fatal
                     spdlog::warn("store: {} entries cut after seq {} into {}/quarantine", n, truncating_to_,
                                  config_.data_dir);
                     run(replica_->truncated(clock_.now(), truncating_to_));
                   });
                 },
                 .on_fatal = [this](core::Error e) { asio::post(io_, [this, e] { die(e); }); },
             });
  std::map<std::string, std::string> addresses;
  for (const auto& [name, peer] : config_.peers) addresses[name] = peer.peer_listen;
  http_ = std::make_unique<net::HttpClient>(io_.get_executor(), net::HttpClientOptions{}, clock_);
  links_ = std::make_unique<PeerLinks>(io_.get_executor(), clock_, addresses, config_.heartbeat_interval,
                                       [this](Message m) {
                                         if (!dropped_for_disk(m)) run(replica_->receive(clock_.now(), std::move(m)));
                                       },
                                       [this](const std::string& peer) { run(replica_->link_up(clock_.now(), peer)); });
  spdlog::info("store: node {} storage {} log {}..{} applied {}", config_.node, meta_.storage_id, log_->first_seq(),
               log_->last_seq(), applied_seq_);
  return core::ok();
}

void StoreNode::listen_peers() {
  const auto endpoint = net::resolve_endpoint(config_.peer_listen);
  if (!endpoint) throw std::runtime_error("cannot resolve " + config_.peer_listen);
  links_->listen(*endpoint);
}

void StoreNode::start() {
  links_->start();
  // Every node starts as a backup: its script says so, from "init", as
  // keepalived's notify_backup at start-up.
  if (auto it = config_.notify.find(role_name(replica_->role())); it != config_.notify.end())
    notify_.start(it->second, {"init", role_name(replica_->role()), std::to_string(replica_->epoch())});
  if (config_.vip) {
    vip_ = std::make_unique<VipDriver>(*config_.vip);
    vip_->release_leftover(clock_.now());
  }
  run(replica_->start(clock_.now()));
  asio::co_spawn(io_, tick_loop(), asio::detached);
  asio::co_spawn(io_, probe_arbiter_loop(), asio::detached);
}

void StoreNode::stop() {
  if (stop_.stop_requested()) return;
  stop_.request_stop();
  vip_.reset();  // the address goes with the node
  if (links_) links_->stop();
  // A flush, checkpoint or apply under way ends; its report to io_ is never run.
  backup_apply_.join();
  background_.join();
  if (writer_) writer_->stop();
}

void StoreNode::die(core::Error error) {
  // A failed fsync may have lost writes the page cache still shows; going on
  // could acknowledge them. Exit and recover from the log on the next start.
  spdlog::critical("store: cannot write the log: {}; exiting", error.to_string());
  vip_.reset();  // a dead node must not keep answering for the VIP
  spdlog::shutdown();
  std::_Exit(1);
}

asio::awaitable<void> StoreNode::tick_loop() {
  const core::Duration most = std::max(core::Duration(1), config_.heartbeat_interval / 4);
  while (!stop_.stop_requested()) {
    const core::TimePoint now = clock_.now();
    const core::TimePoint wake = std::clamp(replica_->next_wake(), now + core::Duration(1), now + most);
    const bool woke = co_await clock_.sleep_until(wake, stop_.get_token());
    if (!woke) co_return;
    run(replica_->tick(clock_.now()));
    apply_held_back();
    expire_writes(clock_.now());
    check_disk(clock_.now());
    if (vip_) vip_->tick(clock_.now(), replica_->role() == Role::kPrimary && !replica_->read_refusal(clock_.now()));
    if (config_.preempt) maybe_preempt(clock_.now());
    if (notify_.running() > 0) notify_.collect();
  }
}

void StoreNode::check_disk(core::TimePoint now) {
  if (now < next_disk_check_) return;
  next_disk_check_ = now + kDiskCheckEvery;
  core::Result<std::uint64_t> free = fs_.free_bytes(config_.data_dir);
  if (!free) {
    spdlog::warn("store: cannot tell the free space under {}: {}", config_.data_dir, free.error().to_string());
    return;
  }
  const bool primary = replica_->role() == Role::kPrimary;
  if (disk_.observe(*free)) {
    replica_->hold_off_promotion(disk_.full());
    if (disk_.full())
      spdlog::error("store: {}: refusing writes (507){}", disk_.reason(),
                    primary ? ", handing the role to an in-sync backup" : ", taking no entries (out of in_sync)");
    else
      spdlog::info("store: the disk has room again ({} MiB free): taking writes", *free >> 20);
  }
  if (!disk_.full() || !primary || !replica_->switching_to().empty() || !replica_->record()) return;
  // Hand the role over while there is room for the change; tried again on
  // each check (the backup may not be in in_sync yet, or a handover was
  // abandoned).
  for (const arbiter::Member& m : replica_->record()->in_sync) {
    if (m.node == config_.node) continue;
    core::Result<Actions> begun = replica_->switchover(now, m.node);
    if (!begun) continue;
    spdlog::warn("store: {}: switching over to {}", disk_.reason(), m.node);
    run(std::move(*begun));
    return;
  }
}

// A backup short of disk takes no entries nor checkpoints: the primary
// stops hearing from it and drops it from in_sync after its lease, so no
// write waits on a disk that cannot hold it.
bool StoreNode::dropped_for_disk(const Message& m) const {
  if (!disk_.full() || replica_->role() == Role::kPrimary) return false;
  return std::holds_alternative<Append>(m) || std::holds_alternative<CheckpointOffer>(m);
}

void StoreNode::maybe_preempt(core::TimePoint now) {
  const std::optional<std::string> primary = replica_->known_primary(now);
  const bool in_sync_backup = replica_->role() == Role::kBackup && replica_->in_sync() && primary &&
                              config_.peers.contains(*primary);
  if (!preempt_.due(now, in_sync_backup)) return;
  spdlog::info("store: preempt: an in-sync backup for {}ms: asking {} for the role back",
               config_.preempt_hold_down.count(), *primary);
  asio::co_spawn(io_, ask_for_role(*primary, config_.peers.at(*primary).listen), asio::detached);
}

asio::awaitable<void> StoreNode::ask_for_role(std::string primary, std::string primary_listen) {
  net::ClientRequest req;
  req.method = "POST";
  req.target = "/admin/switchover?to=" + config_.node;
  // The switchover's own limit, then its answer.
  auto res = co_await http_->request(primary_listen, std::move(req), config_.write_timeout + std::chrono::seconds(6));
  if (stop_.stop_requested()) co_return;
  if (!res) spdlog::warn("store: preempt: {} did not answer: {}", primary, res.error().to_string());
  else if (res->status != 200) spdlog::warn("store: preempt: {} answered {} {}", primary, res->status, res->body);
  else spdlog::info("store: preempt: {} handed the role back: {}", primary, res->body);
}

void StoreNode::run(Actions actions) {
  for (Action& a : actions) std::visit([this](auto& x) { act(x); }, a);
  if (replica_->role() == Role::kPrimary) apply_held_back();
  // A phase of a failover ends inside the replica; counting it here, as it
  // ends, keeps a scrape from counting it again.
  histograms_.observe_failovers(replica_->failovers());
  if (switchover_waiters_ > 0) replica_ran_.notify_all();
}

void StoreNode::act(act::Send& a) { links_->send(a.to, a.message); }

SharedEntry StoreNode::cached(std::uint64_t seq) const {
  if (recent_.empty() || seq < recent_.front()->seq || seq > recent_.back()->seq) return nullptr;
  return recent_[seq - recent_.front()->seq];
}

void StoreNode::act(act::SendAppend& a) {
  // Frames of about kAppendBytes, each continuing the one before
  // (prev_seq), their places on the lane taken now, in order, so the
  // replica's view of what was sent stays true. Entries in recent_ are
  // encoded here, unless they carry a large value; entries older than
  // recent_ are read from the log. A large value is copied (or read) on
  // background_: a 64 MiB frame takes ~200 ms here, which beacons would wait
  // for. Once the link drops a frame (down, or its queue full) nothing more
  // is read or encoded: lost anyway, it is sent again after the next
  // probe's kGap.
  const std::uint64_t from = a.append.prev_seq + 1;
  std::uint64_t in_log_upto = from - 1;  // [from, in_log_upto]: only in the log
  if (from <= a.upto && !cached(from))
    in_log_upto = recent_.empty() ? a.upto : std::min(a.upto, recent_.front()->seq - 1);
  std::vector<SharedEntry> recent;
  std::size_t value_bytes = 0;
  for (std::uint64_t seq = in_log_upto + 1; seq <= a.upto; ++seq) {
    SharedEntry e = cached(seq);
    if (!e) {  // recent_ ends early: all of the range from the log
      in_log_upto = a.upto;
      recent.clear();
      break;
    }
    value_bytes += e->value.size();
    recent.push_back(std::move(e));
  }

  if (in_log_upto < from && value_bytes < kLargeValueBytes) {
    std::string frame;
    if (recent.empty()) encode_append(frame, a.append, {});  // a beacon or a probe
    else encode_frames(frame, a.append, entry_pointers(recent));
    links_->send_frame(a.to, std::move(frame), a.lane);
    return;
  }
  PeerLinks::Fill fill = links_->send_later(a.to, a.lane);
  if (!fill) {
    asio::post(background_, [entries = std::move(recent)] {});  // freed where a large one costs no beat
    return;
  }
  asio::post(background_, [this, fill = std::move(fill), header = a.append, from, in_log_upto, to = a.to,
                           recent = std::move(recent)]() mutable {
    std::vector<Entry> from_log;
    std::size_t read_bytes = 0;  // at most a queue's worth: the link drops what is past it
    std::uint64_t next = from;
    while (next <= in_log_upto && read_bytes < kMaxQueuedFrameBytes) {
      core::Result<std::vector<Entry>> got = log_->read(next, kReadBytes);
      if (!got || got->empty()) {
        spdlog::warn("store: cannot send seq {} to {}: {}", next, to,
                     got ? std::string("not in the log") : got.error().to_string());
        break;
      }
      for (Entry& e : *got) {
        if (e.seq > in_log_upto) break;
        read_bytes += e.value.size();
        from_log.push_back(std::move(e));
        ++next;
      }
    }
    std::vector<const Entry*> entries;
    for (const Entry& e : from_log) entries.push_back(&e);
    if (next > in_log_upto)  // the log part whole: the recent ones continue it
      for (const SharedEntry& e : recent) entries.push_back(e.get());
    std::string frames;
    if (!entries.empty()) encode_frames(frames, header, entries);
    from_log.clear();  // freed here, not on the io thread
    recent.clear();
    asio::post(io_, [fill = std::move(fill), frames = std::move(frames)]() mutable { fill(std::move(frames)); });
  });
}

void StoreNode::act(act::AppendLocal& a) {
  std::vector<SharedEntry> shared;
  shared.reserve(a.entries.size());
  for (Entry& e : a.entries) {
    recent_bytes_ += e.value.size();
    shared.push_back(std::make_shared<const Entry>(std::move(e)));
    recent_.push_back(shared.back());
  }
  if (!writer_->submit(std::move(shared))) die(core::Error::internal("the log writer has stopped"));
}

void StoreNode::act(act::TruncateLog& a) {
  truncating_to_ = a.after_seq;
  while (!recent_.empty() && recent_.back()->seq > a.after_seq) {
    recent_bytes_ -= recent_.back()->value.size();
    recent_.pop_back();
  }
  if (!writer_->truncate_after(a.after_seq, Path(config_.data_dir) / "quarantine"))
    die(core::Error::internal("the log writer has stopped"));
}

void StoreNode::act(act::ReadRecord&) { asio::co_spawn(io_, read_record(), asio::detached); }

void StoreNode::act(act::CasRecord& a) {
  asio::co_spawn(io_, compare_and_set(a.expected_version, std::move(a.proposed)), asio::detached);
}

void StoreNode::arbiter_answered(bool reachable, const std::string& why) {
  if (reachable == arbiter_reachable_) return;
  arbiter_reachable_ = reachable;
  if (reachable) spdlog::info("store: the arbiter at {} answers again", arbiter_name(config_));
  else
    spdlog::warn("store: the arbiter at {} does not answer ({}): no failover is possible until it does",
                 arbiter_name(config_), why);
}

asio::awaitable<void> StoreNode::read_record() {
  core::Result<arbiter::Record> r = co_await arbiter_->read();
  arbiter_answered(r.ok() || !(r.is(core::ErrorCode::kUnavailable) || r.is(core::ErrorCode::kTimeout)),
                   r.ok() ? "" : r.error().to_string());
  if (stop_.stop_requested()) co_return;
  run(replica_->record_read(clock_.now(), r));
}

// The arbiter is needed only for a change of role, so nothing else would
// notice it is gone before a failover fails; a read every second says so in
// /status and the log beforehand. The answer is not given to the replica.
asio::awaitable<void> StoreNode::probe_arbiter_loop() {
  while (!stop_.stop_requested()) {
    const bool woke = co_await clock_.sleep_for(std::chrono::seconds(1), stop_.get_token());
    if (!woke) co_return;
    core::Result<arbiter::Record> r = co_await arbiter_->read();
    arbiter_answered(r.ok() || !(r.is(core::ErrorCode::kUnavailable) || r.is(core::ErrorCode::kTimeout)),
                     r.ok() ? "" : r.error().to_string());
  }
}

asio::awaitable<void> StoreNode::compare_and_set(std::uint64_t expected, arbiter::Record proposed) {
  arbiter::CasAnswer answer = co_await arbiter_->compare_and_set(expected, std::move(proposed));
  arbiter_answered(answer.result.ok() || answer.result.is(core::ErrorCode::kConflict) ||
                       answer.result.is(core::ErrorCode::kInvalid),
                   answer.result.ok() ? "" : answer.result.error().to_string());
  if (stop_.stop_requested()) co_return;
  run(replica_->cas_done(clock_.now(), answer.result, answer.current));
}

void StoreNode::act(act::SaveMeta& a) {
  meta_.cluster_id = a.cluster_id;
  meta_.highest_epoch = std::max(meta_.highest_epoch, a.highest_epoch);
  // On the log writer's thread, so that its fsync never holds up a heartbeat
  // (it comes with a change of epoch: in the middle of a failover), and in
  // order with the log: it is durable before any entry queued after it.
  const bool queued = writer_->with_log(
      [this, meta = meta_](Log&) -> core::Result<void> { return save(fs_, Path(config_.data_dir), meta); });
  if (!queued) die(core::Error::internal("the log writer has stopped"));
}

void StoreNode::act(act::Commit& a) {
  apply_target_ = std::max(apply_target_, a.upto);
  // (A commit below what a restarted node already applied is no batch:
  // compared without subtracting, which would wrap.)
  if (replica_->role() == Role::kPrimary || apply_target_ >= applied_seq_ + kBackupApplyBatch) apply_committed();
}

void StoreNode::apply_held_back() {
  if (applied_seq_ < apply_target_ && !apply_posted_) apply_committed();
}

void StoreNode::apply_committed() {
  if (applying_) return;  // the batch under way carries on when it is done
  const std::uint64_t from = applied_seq_ + 1;
  const std::uint64_t upto = std::min(apply_target_, applied_seq_ + kApplyChunk);
  // The entries of recent_ (no copy of a large value).
  std::vector<SharedEntry> batch;
  std::size_t value_bytes = 0;
  for (std::uint64_t seq = from; seq <= upto; ++seq) {
    SharedEntry e = cached(seq);
    if (!e) {
      apply_from_log(from, upto);
      return;
    }
    value_bytes += e->value.size();
    batch.push_back(std::move(e));
  }
  for (const SharedEntry& e : batch) {
    if (e->op == Op::kPut && e->value.size() >= kLargeValueBytes) large_keys_.insert(e->key);
    else if (e->op != Op::kNoop && !large_keys_.empty()) large_keys_.erase(e->key);
  }
  if (value_bytes >= kLargeValueBytes) {
    // RocksDB copies large values twice (its batch, its memtable), about
    // 100 ms for 16 MiB on this machine, so off the io thread, where beacons
    // would wait. Reads meanwhile see the state before the batch; the writes
    // in it are answered only once it is applied.
    apply_on(background_, std::move(batch), upto);
    return;
  }
  // (Compared without subtracting: apply_target_ may be below applied_seq_.)
  if (replica_->role() != Role::kPrimary && apply_target_ <= applied_seq_ + kBackupIdleApplyBacklog) {
    apply_on(backup_apply_, std::move(batch), upto);
    return;
  }
  if (auto applied = apply(*kv_, batch); !applied) {
    die(applied.error());
    return;
  }
  applied_through(upto);
}

void StoreNode::apply_on(asio::thread_pool& pool, std::vector<SharedEntry> batch, std::uint64_t upto) {
  applying_ = true;
  asio::post(pool, [this, kv = kv_.get(), batch = std::move(batch), upto] {
    core::Result<void> applied = apply(*kv, batch);
    asio::post(io_, [this, applied, upto] { applied_in_background(applied, upto, {}); });
  });
}

void StoreNode::apply_from_log(std::uint64_t from, std::uint64_t upto) {
  // Entries older than recent_ (a node replaying its log after a restart, a
  // backup far behind): read back and applied on background_, as reading a
  // 64 MiB one takes as long as applying it.
  applying_ = true;
  asio::post(background_, [this, kv = kv_.get(), log = &*log_, from, upto] {
    std::vector<SharedEntry> batch;
    core::Result<void> applied = core::ok();
    for (std::uint64_t seq = from; seq <= upto && applied;) {
      core::Result<std::vector<Entry>> got = log->read(seq, kReadBytes);
      if (!got || got->empty()) {
        applied = core::Error::internal("committed seq " + std::to_string(seq) + " is not in the log");
        break;
      }
      for (Entry& e : *got) {
        if (e.seq > upto) break;
        batch.push_back(std::make_shared<const Entry>(std::move(e)));
        ++seq;
      }
    }
    if (applied) applied = apply(*kv, batch);
    std::vector<std::pair<std::string, bool>> large;  // key -> whether its value is large now
    for (const SharedEntry& e : batch)
      if (e->op != Op::kNoop) large.emplace_back(e->key, e->op == Op::kPut && e->value.size() >= kLargeValueBytes);
    batch.clear();  // freed here
    asio::post(io_, [this, applied, upto, large = std::move(large)] { applied_in_background(applied, upto, large); });
  });
}

void StoreNode::applied_in_background(const core::Result<void>& applied, std::uint64_t upto,
                                      const std::vector<std::pair<std::string, bool>>& large) {
  applying_ = false;
  if (!applied) {
    die(applied.error());
    return;
  }
  for (const auto& [key, is_large] : large) {
    if (is_large) large_keys_.insert(key);
    else large_keys_.erase(key);
  }
  applied_through(upto);
  install_when_idle();
}

core::Result<void> StoreNode::apply(KvState& kv, const std::vector<SharedEntry>& batch) {
  if (batch.empty()) return core::ok();
  std::vector<KvEntry> views;
  views.reserve(batch.size());
  for (const SharedEntry& e : batch)
    views.push_back(KvEntry{e->epoch, e->seq, static_cast<KvOp>(e->op), e->key, e->value, e->idempotency_key,
                            e->idempotency_key.empty() ? 0 : request_fingerprint(e->op, e->key, e->value)});
  return kv.apply(views);
}

void StoreNode::applied_through(std::uint64_t upto) {
  applied_seq_ = std::max(applied_seq_, upto);
  if (apply_waiters_ > 0) applied_changed_.notify_all();
  finish(upto);
  while ((recent_.size() > kKeepApplied || recent_bytes_ > kKeepAppliedBytes) && recent_.front()->seq <= applied_seq_ &&
         recent_.front()->seq <= replica_->durable_seq()) {
    recent_bytes_ -= recent_.front()->value.size();
    // A large value may be freed here, its last holder: on background_, as
    // unmapping 64 MiB takes tens of ms.
    if (recent_.front()->value.size() >= kLargeValueBytes)
      asio::post(background_, [last = std::move(recent_.front())] {});
    recent_.pop_front();
  }
  maybe_discard();
  // The rest after what is queued now (beacons, acks, requests).
  if (applied_seq_ < apply_target_ && !apply_posted_) {
    apply_posted_ = true;
    asio::post(io_, [this] {
      apply_posted_ = false;
      apply_committed();
    });
  }
}

void StoreNode::act(act::FailWrites& a) {
  for (auto it = waiting_.upper_bound(a.after_seq); it != waiting_.end();) {
    forget_pending(*it->second);
    it->second->fail(503, a.reason);
    it = waiting_.erase(it);
    ++counters_.writes_failed;
  }
}

void StoreNode::finish(std::uint64_t upto) {
  while (!waiting_.empty() && waiting_.begin()->first <= upto) {
    Waiter& w = *waiting_.begin()->second;
    forget_pending(w);
    w.resolve(200);
    ++counters_.writes;
    waiting_.erase(waiting_.begin());
  }
}

void StoreNode::forget_pending(const Waiter& w) {
  if (auto it = pending_.find(w.key); it != pending_.end() && it->second.get() == &w) pending_.erase(it);
  if (!w.idempotency_key.empty())
    if (auto it = pending_idempotency_.find(w.idempotency_key);
        it != pending_idempotency_.end() && it->second.get() == &w)
      pending_idempotency_.erase(it);
}

void StoreNode::act(act::RoleChanged& a) {
  spdlog::info("store: {} -> {} (epoch {})", role_name(a.from), role_name(a.to), a.epoch);
  role_changes_.push_back({clock_.now(), a.from, a.to, a.epoch});
  if (role_changes_.size() > 32) role_changes_.pop_front();
  if (auto it = config_.notify.find(role_name(a.to)); it != config_.notify.end())
    notify_.start(it->second, {role_name(a.from), role_name(a.to), std::to_string(a.epoch)});
}

void StoreNode::act(act::Note& a) {
  if (a.warning) spdlog::warn("store: {}", a.text);
  else spdlog::info("store: {}", a.text);
}

}  // namespace failover::store
