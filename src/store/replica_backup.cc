// The backup's side of replication: the epoch at the door, KIP-101
// reconciliation with a new primary, appending, acknowledging beacons and
// durability, and the backup's commit point.
#include <algorithm>

#include "store/replica.h"

namespace failover::store {

Actions Replica::receive(core::TimePoint now, Message message) {
  // Only configured peers take part: a stray node's epoch could fence us.
  if (!peers_.contains(sender_of(message))) {
    note(true, "a replication message from unknown node '" + sender_of(message) + "' ignored");
    return take();
  }
  // Counted here, refused by each handler (an ack from a lower epoch is
  // simply stale; an append gets our epoch back, which fences its sender).
  if (std::visit([](const auto& m) { return m.epoch; }, message) < epoch_) ++stale_epoch_messages_;
  if (auto* m = std::get_if<Append>(&message)) on_append(now, *m);
  else if (const auto* m = std::get_if<AppendAck>(&message)) on_ack(now, *m);
  else if (const auto* m = std::get_if<EpochEnd>(&message)) on_epoch_end(now, *m);
  else if (const auto* m = std::get_if<CheckpointOffer>(&message)) on_checkpoint_offer(now, *m);
  else if (const auto* m = std::get_if<Handover>(&message)) on_handover(now, *m);
  return take();
}

void Replica::ack(const std::string& to, AppendAck::Status status) {
  AppendAck a;
  a.epoch = epoch_;
  a.from = config_.node;
  a.storage_id = start_.storage_id;
  a.status = status;
  a.last_seq = last_seq_;
  a.last_epoch = epochs_.epoch_at(last_seq_);
  a.durable_seq = std::min(durable_seq_, last_seq_);
  a.beacon = last_beacon_;
  out_.push_back(act::Send{to, std::move(a)});
}

void Replica::append_local(std::vector<Entry> entries) {
  if (entries.empty()) return;
  for (const Entry& e : entries) epochs_.add(e.epoch, e.seq);
  last_seq_ = entries.back().seq;
  out_.push_back(act::AppendLocal{std::move(entries)});
}

void Replica::on_append(core::TimePoint now, Append& m) {
  // The door: an Append from an epoch below ours is from a deposed primary;
  // our answer carries our epoch, which fences it.
  if (m.epoch < epoch_) {
    ack(m.from, AppendAck::Status::kStaleEpoch);
    return;
  }
  if (m.epoch > epoch_) learn_epoch(now, m.epoch, m.from);
  switch (role_) {
    case Role::kPrimary:
      note(true, "an Append from " + m.from + " in my own epoch " + std::to_string(m.epoch) + ": ignored");
      return;
    case Role::kCandidate:
      // Once it may have asked for the role, a candidate acknowledges no
      // beacon: that would extend the lease of the primary it replaces.
      if (cas_proposed_ || cas_maybe_landed_) return;
      set_role(now, Role::kBackup);  // the primary is alive after all
      break;
    case Role::kFenced:
      set_role(now, Role::kBackup);
      break;
    case Role::kBackup:
      break;
  }
  // The longest silence between two beacons of one primary: how close this
  // backup came to suspecting a live primary (a busy machine, a long fsync).
  if (primary_ == m.from && beacon_epoch_ == m.epoch && beacon_heard_at_ != core::TimePoint{})
    worst_beacon_gap_ = std::max(worst_beacon_gap_, std::chrono::duration_cast<core::Duration>(now - beacon_heard_at_));
  beacon_epoch_ = m.epoch;
  if (primary_ != m.from) {
    primary_ = m.from;
    primary_commit_ = 0;
  }
  heard_at_ = now;
  beacon_heard_at_ = now;
  last_beacon_ = m.beacon;
  told_in_sync_ = m.in_sync;
  rank_ = m.in_sync ? m.rank : 0;
  if (truncating_ || installing_) {
    ack(m.from, AppendAck::Status::kNeedEpoch);  // a beacon's answer; no claim on the log yet
    return;
  }
  if (synced_epoch_ != epoch_) {
    if (last_seq_ > 0) {
      ack(m.from, AppendAck::Status::kNeedEpoch);
      return;
    }
    synced_epoch_ = epoch_;  // an empty log is a prefix of every log
    verified_seq_ = 0;
  }
  if (m.prev_seq > last_seq_) {
    ack(m.from, AppendAck::Status::kGap);
    return;
  }
  // Reconciled with this epoch, our log is a prefix of the primary's: what
  // we already hold of these entries is the same, the rest is appended.
  const std::uint64_t received = m.entries.size();
  std::vector<Entry> fresh;
  for (Entry& e : m.entries)
    if (e.seq > last_seq_) fresh.push_back(std::move(e));  // a value may be 64 MiB: moved, not copied
  const bool appended = !fresh.empty();
  append_local(std::move(fresh));
  verified_seq_ = std::max(verified_seq_, m.prev_seq + received);
  advance_backup_commit(m.commit_seq);
  // New entries are acknowledged once durable (local_durable): only that
  // ack commits them, and an ack on arrival too would cost both sides a
  // message per group (with two backups the primary reads four per group).
  if (!appended) ack(m.from, AppendAck::Status::kOk);
}

void Replica::on_epoch_end(core::TimePoint, const EpochEnd& m) {
  if (m.epoch != epoch_ || m.from != primary_ || role_ != Role::kBackup || truncating_ || installing_) return;
  if (synced_epoch_ == epoch_) return;  // an answer to a question already settled
  // KIP-279: keep what both logs hold of the primary's `leader_epoch` and
  // before it; cut the rest.
  const std::uint64_t end = std::max<std::uint64_t>(m.end, 1);
  const std::uint64_t own_end = epochs_.end_of(m.leader_epoch, last_seq_);
  std::uint64_t keep = std::min(end, own_end) - 1;
  if (keep < commit_seq_) {
    // Never happens if the protocol holds: committed entries are on every
    // in-sync node. Cutting them would lose acknowledged writes; refuse.
    note(true, "refusing to truncate below the commit point " + std::to_string(commit_seq_) + " (asked to keep " +
                   std::to_string(keep) + ")");
    keep = commit_seq_;
  }
  if (keep < last_seq_) {
    truncating_ = true;
    out_.push_back(act::TruncateLog{keep});
    return;
  }
  // Nothing to cut: our log ends inside the primary's leader_epoch, or is
  // shorter. If its last epoch is that one, we are reconciled.
  if (last_seq_ == 0 || epochs_.epoch_at(last_seq_) == m.leader_epoch) {
    synced_epoch_ = epoch_;
    verified_seq_ = last_seq_;
    advance_backup_commit(primary_commit_);
    ack(m.from, AppendAck::Status::kOk);
    return;
  }
  ack(m.from, AppendAck::Status::kNeedEpoch);  // ask again about our (now) last epoch
}

Actions Replica::truncated(core::TimePoint, std::uint64_t after_seq) {
  truncating_ = false;
  last_seq_ = std::min(last_seq_, after_seq);
  durable_seq_ = std::min(durable_seq_, after_seq);
  verified_seq_ = std::min(verified_seq_, after_seq);
  epochs_.truncate_after(after_seq);
  note(false, "truncated the log after seq " + std::to_string(after_seq) + " (the cut tail is in quarantine/)");
  // Ask again: the answer settles whether what remains is reconciled.
  if (role_ == Role::kBackup && !primary_.empty()) ack(primary_, AppendAck::Status::kNeedEpoch);
  return take();
}

void Replica::advance_backup_commit(std::uint64_t primary_commit) {
  primary_commit_ = std::max(primary_commit_, primary_commit);
  if (synced_epoch_ != epoch_) return;
  const std::uint64_t c = std::min({primary_commit_, durable_seq_, verified_seq_});
  if (c > commit_seq_) {
    commit_seq_ = c;
    out_.push_back(act::Commit{c});
  }
}

Actions Replica::local_durable(core::TimePoint now, std::uint64_t seq) {
  durable_seq_ = std::max(durable_seq_, std::min(seq, last_seq_));
  if (role_ == Role::kPrimary) {
    advance_commit(now);
  } else if (role_ == Role::kBackup && synced_epoch_ == epoch_ && !primary_.empty() && !truncating_ && !installing_) {
    advance_backup_commit(primary_commit_);
    ack(primary_, AppendAck::Status::kOk);
  }
  return take();
}

void Replica::on_checkpoint_offer(core::TimePoint, const CheckpointOffer& m) {
  // Only the primary of our epoch, to a backup reconciled with it (so that
  // everything our log holds is a prefix of the primary's), and only when
  // the checkpoint covers the whole of our log: installing it then replaces
  // entries the checkpoint also holds, and loses none.
  if (m.epoch != epoch_ || m.from != primary_ || role_ != Role::kBackup) return;
  if (truncating_ || installing_ || synced_epoch_ != epoch_) return;
  if (m.seq <= last_seq_) return;  // an offer we no longer need: entries follow
  installing_ = true;
  note(false, "fetching a checkpoint through seq " + std::to_string(m.seq) + " from " + m.from +
                  ": it no longer has the entries after our seq " + std::to_string(last_seq_));
  out_.push_back(act::FetchCheckpoint{m});
}

Actions Replica::checkpoint_installed(core::TimePoint, const CheckpointOffer& offer) {
  installing_ = false;
  // The checkpoint holds what its primary had applied, so committed entries
  // only: a prefix of the log of every later primary too.
  first_seq_ = offer.seq + 1;
  last_seq_ = durable_seq_ = commit_seq_ = verified_seq_ = offer.seq;
  epochs_ = EpochHistory();
  for (const EpochHistory::Start& e : offer.epochs) epochs_.add(e.epoch, e.first_seq);
  if (epochs_.empty()) epochs_.add(offer.epoch, offer.seq);
  primary_commit_ = std::max(primary_commit_, offer.seq);
  if (offer.epoch != epoch_) synced_epoch_ = 0;  // a newer primary: reconcile with it first (KIP-101)
  note(false, "installed the checkpoint of " + offer.from + " through seq " + std::to_string(offer.seq));
  if (role_ == Role::kBackup && !primary_.empty())
    ack(primary_, synced_epoch_ == epoch_ ? AppendAck::Status::kOk : AppendAck::Status::kNeedEpoch);
  return take();
}

Actions Replica::checkpoint_failed(core::TimePoint, const std::string& why) {
  installing_ = false;
  note(true, "could not install a checkpoint: " + why + "; the primary offers another");
  return take();
}

}  // namespace failover::store
