#pragma once
// One store node: the replica state machine (replica.h) and everything it
// asks for — the log and its writer thread, the applied state on RocksDB,
// the links to the peers, the arbiter — plus the HTTP API on top.
//
// Threads: everything here runs on the node's one io thread, except the
// LogWriter's fsyncs and the background thread's RocksDB flushes and
// checkpoints, whose reports are posted back to it. The HTTP API, /status
// and /metrics run there too, so none of the state needs a lock.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "arbiter/arbiter.h"
#include "core/async_event.h"
#include "core/clock.h"
#include "core/metrics_writer.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "store/config.h"
#include "store/disk_guard.h"
#include "store/failover_metrics.h"
#include "store/kv_request.h"
#include "store/kv_state.h"
#include "store/log.h"
#include "store/log_writer.h"
#include "store/node_meta.h"
#include "store/notify.h"
#include "store/peer_links.h"
#include "store/preempt.h"
#include "store/replica.h"
#include "store/vip_driver.h"

namespace failover::store {

class StoreNode {
 public:
  // Committed entries applied in one go on the io thread. A node that
  // restarts far behind (its memtable, never flushed with RocksDB's WAL
  // off, was lost with the process) has up to 2 x log.keep_entries to
  // apply; in one go that held its heartbeats and acks for 150 ms at
  // 170 000 entries.
  static constexpr std::uint64_t kApplyChunk = 2048;
  // A backup applies what it learns is committed once this many entries
  // wait, or at its next tick (a quarter of the heartbeat interval), not
  // with a RocksDB write per frame from the primary (~13 entries at 64
  // clients). Only stale reads see the lag; a backup that becomes primary
  // applies at once.
  static constexpr std::uint64_t kBackupApplyBatch = 128;
  // A backup's batches go to backup_apply_, a thread at idle CPU priority:
  // no write waits for a backup's apply, so on a shared host it takes only
  // CPU time left unused by what writes do wait for (the primary, acks,
  // fsyncs); with two backups on two cores, +8 % writes/s.
  // Past this many committed entries not yet applied (a host with no idle
  // time, where it would starve) the io thread applies them at normal
  // priority, which bounds both the stale reads' lag and what a promoted
  // backup has left to apply.
  static constexpr std::uint64_t kBackupIdleApplyBacklog = 8192;

  StoreNode(boost::asio::io_context& io, StoreConfig config, const core::Clock& clock, FileSystem& fs,
            std::unique_ptr<arbiter::Arbiter> arbiter);
  ~StoreNode();

  // Opens data_dir (identity, log recovery, RocksDB). kInvalid/I/O errors
  // are start-up errors: the caller exits.
  core::Result<void> open();
  // Opens the replication port (throws boost::system::system_error) and
  // starts replication, the arbiter and the timers.
  void listen_peers();
  void start();
  void stop();

  // The client API: /kv/..., /primary, /replica. Other paths: nullopt.
  // A PUT's body is moved out of `request` into the write.
  boost::asio::awaitable<std::optional<net::HttpResponse>> handle(net::HttpRequest& request);
  std::string status_json() const;
  void metrics(core::MetricsWriter& out) const;

  // Set when the log could not be written: the process must exit (1) and
  // recover from its log on the next start.
  std::optional<core::Error> fatal() const { return fatal_; }

 private:
  // A client write waiting for its commit (or its failure). Resolved on the
  // io thread, which is where its HTTP coroutine sleeps on `done`.
  // One write's wait for its commit. Woken through an Asio timer (no
  // syscall), not a std::stop_source: libstdc++ wakes a futex for every
  // stop callback it runs, one syscall per write (a tenth of the primary's
  // CPU at c=64 on a paravirtualised host).
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex) : done(ex) {}
    core::OneShotEvent done;
    core::TimePoint deadline;  // write_timeout after it arrived
    int status = 0;            // 200, or the failure's; 0 when woken at its deadline
    std::uint64_t seq = 0;
    std::uint64_t epoch = 0;
    std::string key, idempotency_key;
    std::uint32_t fingerprint = 0;  // request_fingerprint(), with an idempotency key
    Op op = Op::kPut;
    std::uint64_t removed_version = 0;  // a delete's: the version it removed
    std::string reason;
    void resolve(int s, std::string why = {}) {
      status = s;
      reason = std::move(why);
      done.set();
    }
    void fail(int s, std::string why) { resolve(s, std::move(why)); }
  };
  struct Write {
    Proposal proposal;
    std::shared_ptr<Waiter> waiter;
  };

  // node.cc: the actions of the replica.
  void run(Actions actions);
  void act(act::Send& a);
  void act(act::SendAppend& a);
  void act(act::AppendLocal& a);
  void act(act::TruncateLog& a);
  void act(act::ReadRecord& a);
  void act(act::CasRecord& a);
  void act(act::SaveMeta& a);
  void act(act::Commit& a);
  void apply_committed();
  // Applies what a backup held back (a batch not yet full): at its tick,
  // and at once when it becomes primary. Not while the rest of a chunked
  // apply is posted: that goes on by itself, a chunk per turn of io_.
  void apply_held_back();
  static core::Result<void> apply(KvState& kv, const std::vector<SharedEntry>& batch);
  // apply_committed() of entries no longer in recent_: read and applied on background_.
  void apply_from_log(std::uint64_t from, std::uint64_t upto);
  // Applies `batch` (entries through `upto`) on `pool` instead of the io thread.
  void apply_on(boost::asio::thread_pool& pool, std::vector<SharedEntry> batch, std::uint64_t upto);
  // Back on the io thread after a batch applied on background_ or
  // backup_apply_; `large`: the keys it wrote, and whether each holds a
  // large value now.
  void applied_in_background(const core::Result<void>& applied, std::uint64_t upto,
                             const std::vector<std::pair<std::string, bool>>& large);
  void applied_through(std::uint64_t upto);
  void act(act::FailWrites& a);
  void act(act::SendCheckpoint& a);
  void act(act::FetchCheckpoint& a);
  void act(act::RoleChanged& a);
  void act(act::Note& a);
  SharedEntry cached(std::uint64_t seq) const;
  boost::asio::awaitable<void> tick_loop();
  boost::asio::awaitable<void> read_record();
  boost::asio::awaitable<void> compare_and_set(std::uint64_t expected, arbiter::Record proposed);
  boost::asio::awaitable<void> probe_arbiter_loop();
  void arbiter_answered(bool reachable, const std::string& why);
  [[noreturn]] void die(core::Error error);

  // node_checkpoint.cc: discarding the log, checkpoints for a peer that
  // needs what was discarded (made and served here, fetched and installed
  // there), and an install that a crash cut short.
  void maybe_discard();
  void checkpoint_made(const std::string& to, std::uint64_t epoch, core::Result<CheckpointOffer> made);
  net::HttpResponse serve_checkpoint(const net::HttpRequest& request) const;
  boost::asio::awaitable<void> fetch_checkpoint(CheckpointOffer offer);
  boost::asio::awaitable<core::Result<void>> download(const CheckpointOffer& offer);
  void install(const CheckpointOffer& offer);
  void installed(const CheckpointOffer& offer);
  core::Result<void> finish_interrupted_install();
  Path incoming_dir() const;
  Path checkpoints_dir() const;

  // node_http.cc: the client API.
  boost::asio::awaitable<net::HttpResponse> write(const net::HttpRequest& request, KvRequest r);
  // POST /admin/switchover?to=NODE: hands the role over; answers once done.
  boost::asio::awaitable<net::HttpResponse> switchover(const net::HttpRequest& request);
  // preempt: true: asks the primary for the role once the hold-down has passed.
  void maybe_preempt(core::TimePoint now);
  boost::asio::awaitable<void> ask_for_role(std::string primary, std::string primary_listen);
  boost::asio::awaitable<net::HttpResponse> read(const net::HttpRequest& request, const std::string& key, bool stale);
  net::HttpResponse read_reply(const net::HttpRequest& request, const std::string& key, bool stale,
                               core::Result<std::optional<VersionedValue>> got);
  boost::asio::awaitable<net::HttpResponse> list(const net::HttpRequest& request, const KvRequest& r);
  net::HttpResponse elsewhere(const net::HttpRequest& request, const Refusal& why);
  std::optional<std::uint64_t> version_of(const std::string& key, bool& unknown) const;
  void flush_writes();
  // node.cc: the free space under data_dir, every kDiskCheckEvery.
  void check_disk(core::TimePoint now);
  bool dropped_for_disk(const Message& m) const;
  void expire_writes(core::TimePoint now);
  net::HttpResponse disk_full_reply() const;
  void finish(std::uint64_t upto);
  void forget_pending(const Waiter& w);

  boost::asio::io_context& io_;
  StoreConfig config_;
  const core::Clock& clock_;
  FileSystem& fs_;
  std::unique_ptr<arbiter::Arbiter> arbiter_;

  NodeMeta meta_;
  std::optional<Log> log_;
  std::unique_ptr<LogWriter> writer_;
  std::unique_ptr<KvState> kv_;
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<PeerLinks> links_;
  std::stop_source stop_;
  PreemptHoldDown preempt_{config_.preempt_hold_down};
  NotifyRunner notify_{clock_};
  std::unique_ptr<VipDriver> vip_;  // with `vip:`; gives the address up when destroyed
  // Wakes the switchover requests waiting for the replica to finish one
  // (it ends, or is abandoned at switchover_timeout, inside some run()).
  core::AsyncCondition replica_ran_{io_.get_executor()};
  int switchover_waiters_ = 0;
  std::optional<core::Error> fatal_;

  // Entries appended and not yet applied, for SendAppend and Commit without
  // reading the log back (older ones are read from the log).
  std::deque<SharedEntry> recent_;
  std::size_t recent_bytes_ = 0;  // of the values in recent_
  std::uint64_t applied_seq_ = 0;
  std::uint64_t apply_target_ = 0;  // committed: applied_seq_ catches up to it, a chunk at a time
  bool apply_posted_ = false;
  // Large values are encoded, applied, read and freed on background_, never
  // on the io thread, where beacons would wait behind them (64 MiB takes
  // 100-400 ms here for each): a frame or a batch with kLargeValueBytes of
  // values, a GET of a key in large_keys_. A batch applied there or on
  // backup_apply_ sets applying_: meanwhile no other batch is applied, and a
  // checkpoint is installed only once RocksDB is no longer in use there.
  bool applying_ = false;
  int reads_in_background_ = 0;
  // Keys whose value has kLargeValueBytes or more: the state's large_keys()
  // when it opens, then kept by each batch as it goes to be applied.
  std::unordered_set<std::string> large_keys_;
  std::optional<CheckpointOffer> install_after_apply_;
  void install_when_idle();
  core::AsyncCondition applied_changed_{io_.get_executor()};  // applied_seq_ moved
  int apply_waiters_ = 0;                                     // reads waiting on it

  // Writes waiting for their commit, by seq; writes queued for the next
  // group (one propose, one fsync, one replication round trip).
  std::map<std::uint64_t, std::shared_ptr<Waiter>> waiting_;
  std::vector<Write> queued_;
  bool flush_posted_ = false;
  void post_flush();
  // Every write not yet answered, in arrival order, hence in deadline order
  // (write_timeout is one constant): the tick, every heartbeat interval / 4
  // at most, wakes the expired, which answer 503.
  std::deque<std::shared_ptr<Waiter>> write_deadlines_;
  // The newest version of each key with a write in flight, so a
  // conditional write checks against what will be, not what was.
  std::map<std::string, std::shared_ptr<Waiter>> pending_;              // key -> its latest write
  std::map<std::string, std::shared_ptr<Waiter>> pending_idempotency_;  // idempotency key -> its write

  std::uint64_t truncating_to_ = 0;

  DiskGuard disk_{config_.min_free_disk};
  core::TimePoint next_disk_check_{};
  static constexpr core::Duration kDiskCheckEvery = std::chrono::milliseconds(100);

  // Flushes and checkpoints run here so that heartbeats keep time; stop()
  // joins it before the state it uses goes.
  boost::asio::thread_pool background_{1};
  // A backup's batches to apply, at idle CPU priority (kBackupIdleApplyBacklog).
  boost::asio::thread_pool backup_apply_{1};
  std::unique_ptr<net::HttpClient> http_;  // fetches a peer's checkpoint
  bool discarding_ = false;                // a flush and discard is under way
  std::uint64_t next_discard_at_ = 0;      // applied seq at which to try again
  bool checkpointing_ = false;             // a checkpoint for a peer is being made
  std::deque<std::string> served_;         // checkpoints offered, newest last (data_dir/checkpoints/ID)
  std::uint64_t checkpoints_made_ = 0;
  struct CheckpointCounters {
    std::uint64_t offered = 0, installed = 0, failed = 0, discards = 0;
  } checkpoint_counters_;
  bool arbiter_reachable_ = true;  // as the last read or compare-and-set found it
  struct RoleChange {
    core::TimePoint at;
    Role from, to;
    std::uint64_t epoch;
  };
  std::deque<RoleChange> role_changes_;
  struct Counters {
    std::uint64_t writes = 0, writes_failed = 0, reads = 0, redirects = 0, unavailable = 0, groups = 0;
  } counters_;
  StoreHistograms histograms_;  // failover phases and write latency, for /metrics
};

}  // namespace failover::store
