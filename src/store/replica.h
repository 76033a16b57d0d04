#pragma once
// One store node's replication state machine (DESIGN.md, "The stateful
// protocol"): PacificA's primary/backup with the arbiter's record as the only
// truth about roles, leases from acknowledged beacons, and KIP-101 epoch
// truncation for a node that comes back.
//
// No I/O and no clock: every event takes `now` from the caller and returns
// the actions the caller must carry out (send, append and fsync, truncate,
// read or compare-and-set the record, apply). The caller reports back what
// happened (local_durable, truncated, record_read, cas_done). Tests drive it
// with a manual clock and an in-memory network (tests/unit/store_sim.h).
//
// Safety rests on the record and on durability, never on clocks: a node
// becomes primary only by a compare-and-set that names it, and only if it is
// in in_sync with its own storage_id. Clocks only bound *when* the old
// primary stops serving (its lease ends before the backup's grace, given a
// bounded drift; the config check enforces the margin).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "arbiter/record.h"
#include "core/result.h"
#include "core/time.h"
#include "store/entry.h"
#include "store/epoch_history.h"
#include "store/messages.h"

namespace failover::store {

enum class Role { kBackup, kCandidate, kPrimary, kFenced };
const char* role_name(Role role);

struct ReplicaConfig {
  std::string node;
  std::vector<std::string> peers;
  core::Duration heartbeat_interval{50};
  core::Duration heartbeat_timeout{250};  // a backup's grace before it asks the arbiter
  core::Duration lease{200};              // the primary's lease from acknowledged beacons
  bool strict = false;                    // refuse writes rather than acknowledge them on one copy
  core::Duration record_retry{50};        // how soon to ask an arbiter that did not answer again
  std::uint64_t max_batch = 512;          // entries per Append
  std::uint64_t max_in_flight = 8192;     // entries sent to a peer and not yet acknowledged
  core::Duration checkpoint_retry{5000};  // offer a peer that still lacks discarded entries a checkpoint again
  core::Duration switchover_timeout{5000};  // a switchover whose target has not caught up by then is abandoned
};

// What the node knows about itself when it starts: its log (already
// recovered) and what it persisted (node_meta).
struct ReplicaStart {
  std::string storage_id;
  std::string cluster_id;           // "" before the first record was seen
  std::uint64_t highest_epoch = 0;  // the highest epoch this node has persisted
  std::uint64_t first_seq = 1;      // the oldest entry the log still holds (older ones are discarded)
  std::uint64_t last_seq = 0;       // log end (everything in the log is durable at start)
  std::uint64_t applied_seq = 0;    // what the state machine already holds
  EpochHistory epochs;
};

// The actions. The caller carries them out in order.
namespace act {
struct Send {  // an AppendAck, an EpochEnd or a Handover
  std::string to;
  Message message;
};
struct SendAppend {  // `append` with its entries prev_seq+1 .. upto filled in by the caller
  std::string to;
  Append append;
  std::uint64_t upto = 0;
  Lane lane = Lane::kData;
};
struct AppendLocal {  // write and fsync; report local_durable(last seq)
  std::vector<Entry> entries;
};
struct TruncateLog {  // quarantine and cut everything after `after_seq`; report truncated()
  std::uint64_t after_seq = 0;
};
struct ReadRecord {};  // report record_read()
struct CasRecord {     // report cas_done()
  std::uint64_t expected_version = 0;
  arbiter::Record proposed;
};
struct SaveMeta {  // persist (asynchronously is fine: it only ever grows)
  std::string cluster_id;
  std::uint64_t highest_epoch = 0;
};
struct Commit {  // apply the log through `upto`, then answer the writes up to it
  std::uint64_t upto = 0;
};
struct FailWrites {  // answer every write with seq > after_seq 503 (outcome unknown)
  std::uint64_t after_seq = 0;
  std::string reason;
};
struct SendCheckpoint {  // the peer needs entries this node no longer has: offer it a checkpoint
  std::string to;
};
struct FetchCheckpoint {  // fetch and install the primary's checkpoint; report checkpoint_installed or _failed
  CheckpointOffer offer;
};
struct RoleChanged {
  Role from = Role::kBackup;
  Role to = Role::kBackup;
  std::uint64_t epoch = 0;
};
struct Note {  // something an operator should read in the log
  bool warning = false;
  std::string text;
};
}  // namespace act

using Action = std::variant<act::Send, act::SendAppend, act::AppendLocal, act::TruncateLog, act::ReadRecord,
                            act::CasRecord, act::SaveMeta, act::Commit, act::FailWrites, act::SendCheckpoint, act::FetchCheckpoint,
                            act::RoleChanged, act::Note>;
using Actions = std::vector<Action>;

// One write as a client asked for it; the primary gives it an epoch and a seq.
struct Proposal {
  Op op = Op::kPut;
  std::string key;
  std::string value;
  std::string idempotency_key;
};

// Why a write or a read is not taken here.
struct Refusal {
  enum class Kind { kNotPrimary, kNotReady, kStrict };
  Kind kind = Kind::kNotPrimary;
  std::string reason;  // for X-Reason and logs
};

// The phases of one failover as this node saw them (for /status and the
// "why did it take 400 ms" question).
struct FailoverTiming {
  std::uint64_t epoch = 0;
  core::TimePoint suspected{};    // the grace ended without a beacon (or the start, after a restart)
  core::TimePoint cas_granted{};  // the arbiter named this node
  core::TimePoint reconciled{};   // the whole log committed: serving from here
  core::TimePoint first_write{};  // the first write of the new epoch acknowledged
  // The last beacon this node heard from the old primary before it suspected
  // it (the primary died between this and one heartbeat interval later);
  // empty when it heard none: it started without one, or it is a restarted
  // primary that the record still named.
  core::TimePoint last_beacon{};
};

// A peer as the primary tracks it.
struct PeerView {
  std::string name;
  std::string storage_id;           // from its last ack
  bool streaming = false;           // reconciled with this epoch and fed entries
  std::uint64_t next_seq = 0;       // the next entry to send
  std::uint64_t match_seq = 0;      // its log equals ours through here
  std::uint64_t durable_seq = 0;    // of that, fsynced
  core::TimePoint lease_from{};     // send time of the latest beacon it acknowledged
  core::TimePoint last_ack{};
  bool counted = false;             // in the acknowledgement set though not (yet) in in_sync
  std::uint64_t count_point = 0;    // once durable here, it holds every acknowledged write
  core::TimePoint checkpoint_offered{};  // when it was last offered a checkpoint (its next_seq was discarded)
  bool needs_checkpoint(std::uint64_t first_seq) const { return streaming && next_seq < first_seq; }
};

class Replica {
 public:
  Replica(ReplicaConfig config, ReplicaStart start, core::TimePoint now);

  // The first actions: read the record.
  Actions start(core::TimePoint now);
  // Timers: beacons, the grace, the lease, retries. Call at least every
  // heartbeat_interval / 2; next_wake() says when something is due.
  Actions tick(core::TimePoint now);
  core::TimePoint next_wake() const;

  // Client writes (primary only). On success the entries are in the
  // AppendLocal action, their seqs first_seq .. first_seq + n - 1.
  struct Proposed {
    std::uint64_t first_seq = 0;
    Actions actions;
  };
  std::variant<Proposed, Refusal> propose(core::TimePoint now, std::vector<Proposal> writes);
  // Whether a read may be served here now, as a primary (checked after the read).
  std::optional<Refusal> read_refusal(core::TimePoint now) const;

  // A planned switchover to the in-sync backup `target` (replica_switchover.cc):
  // new writes are refused (503, "switching over") until the target holds,
  // fsynced, every entry and all of them are committed; then the record
  // names it primary in a new epoch by compare-and-set, this node steps
  // down to backup at once (read-only from that instant) and tells the
  // target (Handover), which takes over without waiting out a grace.
  // Abandoned, writes resumed, when the target has not caught up within
  // switchover_timeout. kInvalid: this node is no serving primary, or the
  // target is no in-sync peer; kConflict: a switchover is under way.
  core::Result<Actions> switchover(core::TimePoint now, const std::string& target);
  // The target of the switchover under way; "" when none.
  const std::string& switching_to() const { return handover_to_; }

  Actions receive(core::TimePoint now, Message message);
  // This node's link to `peer` has just connected. A primary beacons to it
  // at once rather than at the next beacon: a node that came back starts to
  // reconcile without waiting for a heartbeat interval (failback time).
  Actions link_up(core::TimePoint now, const std::string& peer);
  Actions local_durable(core::TimePoint now, std::uint64_t seq);
  Actions truncated(core::TimePoint now, std::uint64_t after_seq);
  Actions record_read(core::TimePoint now, const core::Result<arbiter::Record>& record);
  // A compare-and-set's answer: the new record, kConflict (then `current`
  // holds the record that won, if the arbiter said it), or another error
  // (kUnavailable: never reached the arbiter; kTimeout: may have landed).
  Actions cas_done(core::TimePoint now, const core::Result<arbiter::Record>& result,
                   const std::optional<arbiter::Record>& current = std::nullopt);
  // The log discarded the entries before `first_seq` (they are in a flushed
  // state): a peer that needs them is offered a checkpoint.
  Actions log_discarded(core::TimePoint now, std::uint64_t first_seq);
  // The checkpoint of `offer` (FetchCheckpoint) was installed here: the
  // state holds every entry through offer.seq, the log restarts after it.
  Actions checkpoint_installed(core::TimePoint now, const CheckpointOffer& offer);
  // It could not be fetched or installed; the state and log are unchanged.
  Actions checkpoint_failed(core::TimePoint now, const std::string& why);

  // Queries (for the HTTP API and /status).
  Role role() const { return role_; }
  std::uint64_t epoch() const { return epoch_; }
  std::uint64_t first_seq() const { return first_seq_; }
  std::uint64_t last_seq() const { return last_seq_; }
  std::uint64_t durable_seq() const { return durable_seq_; }
  std::uint64_t commit_seq() const { return commit_seq_; }
  const std::string& storage_id() const { return start_.storage_id; }
  const std::string& node() const { return config_.node; }
  const std::optional<arbiter::Record>& record() const { return record_; }
  // The primary of the current epoch, when heard from within two beats (a
  // 307 to it is worth it); nullopt otherwise (the caller answers 503).
  std::optional<std::string> known_primary(core::TimePoint now) const;
  // Lease time left as primary; zero when not holding it.
  core::Duration lease_left(core::TimePoint now) const;
  // This node is in in_sync: as the record says on a primary, as the
  // primary last said on a backup.
  bool in_sync() const;
  const EpochHistory& epochs() const { return epochs_; }
  // As a backup: the longest time between two beacons of the same primary
  // in one epoch since this node started (a gap near heartbeat_timeout
  // means a failover nearly fired on a live primary).
  core::Duration worst_beacon_gap() const { return worst_beacon_gap_; }
  bool installing_checkpoint() const { return installing_; }
  bool witness_refused() const { return !refusal_.empty(); }
  // Replication messages from an epoch below ours, refused at the door.
  std::uint64_t stale_epoch_messages() const { return stale_epoch_messages_; }
  const std::string& why_not_promotable() const { return not_promotable_; }
  // A backup that cannot take writes (its disk is short): it never asks for
  // the role while this is set, however long it goes without a beacon.
  void hold_off_promotion(bool hold) { hold_off_promotion_ = hold; }
  const std::map<std::string, PeerView>& peers() const { return peers_; }
  const std::vector<FailoverTiming>& failovers() const { return failovers_; }

 private:
  // replica.cc: roles, the record, the arbiter.
  void set_role(core::TimePoint now, Role role);
  bool accept_record(const arbiter::Record& r);
  void learn_epoch(core::TimePoint now, std::uint64_t epoch, const std::string& primary);
  void on_record(core::TimePoint now, const arbiter::Record& r);
  void become_candidate(core::TimePoint now);
  void propose_record(core::TimePoint now, arbiter::Record proposed);
  void granted(core::TimePoint now, const arbiter::Record& r);
  void promoted(core::TimePoint now, const arbiter::Record& r);
  void fence(core::TimePoint now, const std::string& why);
  bool eligible(const arbiter::Record& r) const;
  void note(bool warning, std::string text);

  // replica_switchover.cc
  void try_handover(core::TimePoint now);
  void handed_over(core::TimePoint now, const arbiter::Record& r);
  void on_handover(core::TimePoint now, const Handover& m);
  bool take_handed_role(core::TimePoint now, const arbiter::Record& r);
  Actions take();

  // replica_backup.cc
  void on_append(core::TimePoint now, Append& m);
  void on_epoch_end(core::TimePoint now, const EpochEnd& m);
  void on_checkpoint_offer(core::TimePoint now, const CheckpointOffer& m);
  void ack(const std::string& to, AppendAck::Status status);
  void advance_backup_commit(std::uint64_t primary_commit);
  void append_local(std::vector<Entry> entries);

  // replica_primary.cc
  void on_ack(core::TimePoint now, const AppendAck& m);
  void beacon(core::TimePoint now);
  void send_entries(core::TimePoint now, PeerView& peer, bool force_beacon);
  std::uint8_t rank_of(const PeerView& peer) const;  // replica_primary.cc
  core::TimePoint lease_until() const;
  bool lease_held(core::TimePoint now) const;
  void advance_commit(core::TimePoint now);
  void check_members(core::TimePoint now);
  std::uint64_t beacon_token(core::TimePoint now) const;

  ReplicaConfig config_;
  ReplicaStart start_;
  Actions out_;

  Role role_ = Role::kBackup;
  std::uint64_t epoch_ = 0;         // the highest epoch known (from the record or a message)
  std::string primary_;             // the primary of epoch_, when known
  std::optional<arbiter::Record> record_;  // as last seen
  std::uint64_t stale_epoch_messages_ = 0;
  std::string refusal_;             // why the arbiter's record is refused ("" when it is not)
  std::string not_promotable_;      // why this node may not be promoted ("" when it may)

  // The log as this machine has asked for it (the caller's log follows).
  std::uint64_t first_seq_ = 1;
  std::uint64_t last_seq_ = 0;
  std::uint64_t durable_seq_ = 0;
  std::uint64_t commit_seq_ = 0;
  EpochHistory epochs_;
  bool truncating_ = false;
  bool installing_ = false;  // fetching or installing a checkpoint: the log is about to be replaced

  // Backup.
  core::TimePoint heard_at_{};       // the last Append of the current epoch
  std::uint64_t synced_epoch_ = 0;   // reconciled (KIP-101) with the primary of this epoch
  std::uint64_t verified_seq_ = 0;   // our log equals the primary's through here
  std::uint64_t primary_commit_ = 0;
  std::uint64_t last_beacon_ = 0;
  bool told_in_sync_ = false;        // the primary's last word on whether we are in in_sync
  std::uint8_t rank_ = 0;            // ... and on how many in-sync backups are ahead of us (Append::rank)
  bool hold_off_promotion_ = false;  // hold_off_promotion()
  // How long a backup waits for a beacon before it asks for the role: the
  // timeout, and an interval more for each in-sync backup further along.
  core::Duration grace() const { return config_.heartbeat_timeout + rank_ * config_.heartbeat_interval; }

  // The arbiter.
  bool record_read_pending_ = false;
  core::TimePoint record_retry_at_{};  // when to ask again after a failure
  std::optional<arbiter::Record> cas_proposed_;  // sent and not yet answered
  bool cas_maybe_landed_ = false;  // answered with an error: read the record to learn

  // Primary.
  std::map<std::string, PeerView> peers_;
  core::TimePoint next_beacon_{};
  std::uint64_t epoch_start_seq_ = 0;  // the Noop that opened this epoch
  core::TimePoint promoted_at_{};
  bool reconciled_ = false;
  core::TimePoint suspected_at_{};     // when this node began to doubt the primary
  core::TimePoint beacon_heard_at_{};  // the last Append from a primary (heard_at_ is also set without one)
  core::TimePoint beacon_before_suspicion_{};  // beacon_heard_at_ when suspected_at_ was set
  std::uint64_t beacon_epoch_ = 0;             // the epoch of the beacon at beacon_heard_at_
  core::Duration worst_beacon_gap_{0};
  std::vector<FailoverTiming> failovers_;

  // A planned switchover: on the primary, its target and deadline; on the
  // target, the epoch the Handover named.
  std::string handover_to_;
  core::TimePoint handover_deadline_{};
  std::uint64_t handover_epoch_ = 0;
};

}  // namespace failover::store
