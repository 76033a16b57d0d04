// Roles, the record and the arbiter: what every role shares. The backup's
// side of replication is in replica_backup.cc, the primary's in
// replica_primary.cc.
#include "store/replica.h"

#include <algorithm>

namespace failover::store {

const char* role_name(Role role) {
  switch (role) {
    case Role::kBackup: return "backup";
    case Role::kCandidate: return "candidate";
    case Role::kPrimary: return "primary";
    case Role::kFenced: return "fenced";
  }
  return "backup";
}

Replica::Replica(ReplicaConfig config, ReplicaStart start, core::TimePoint now)
    : config_(std::move(config)), start_(std::move(start)) {
  epoch_ = start_.highest_epoch;
  first_seq_ = start_.first_seq;
  last_seq_ = start_.last_seq;
  durable_seq_ = start_.last_seq;  // a recovered log holds only what was fsynced
  commit_seq_ = std::min(start_.applied_seq, start_.last_seq);
  epochs_ = start_.epochs;
  // A node that starts waits a whole grace before it suspects the primary:
  // the primary needs that long to find it.
  heard_at_ = now;
  suspected_at_ = now;
  for (const std::string& p : config_.peers) peers_[p].name = p;
}

Actions Replica::start(core::TimePoint) {
  record_read_pending_ = true;
  out_.push_back(act::ReadRecord{});
  return take();
}

Actions Replica::take() {
  Actions out;
  out.swap(out_);
  return out;
}

void Replica::note(bool warning, std::string text) { out_.push_back(act::Note{warning, std::move(text)}); }

void Replica::set_role(core::TimePoint, Role role) {
  if (role == role_) return;
  out_.push_back(act::RoleChanged{role_, role, epoch_});
  role_ = role;
}

Actions Replica::tick(core::TimePoint now) {
  if (!record_read_pending_ && record_retry_at_ != core::TimePoint{} && now >= record_retry_at_) {
    record_retry_at_ = {};
    record_read_pending_ = true;
    out_.push_back(act::ReadRecord{});
  }
  switch (role_) {
    case Role::kBackup:
      if (now - heard_at_ >= grace() && !hold_off_promotion_) become_candidate(now);
      break;
    case Role::kPrimary:
      if (now >= next_beacon_) beacon(now);
      check_members(now);
      advance_commit(now);
      try_handover(now);
      break;
    case Role::kCandidate:
    case Role::kFenced:
      break;  // waiting for the arbiter
  }
  return take();
}

core::TimePoint Replica::next_wake() const {
  core::TimePoint wake = core::TimePoint::max();
  if (record_retry_at_ != core::TimePoint{}) wake = std::min(wake, record_retry_at_);
  if (role_ == Role::kBackup) wake = std::min(wake, heard_at_ + grace());
  if (role_ == Role::kPrimary) {
    wake = std::min(wake, next_beacon_);
    const core::TimePoint until = lease_until();
    if (until != core::TimePoint::max()) wake = std::min(wake, until);
    if (!handover_to_.empty()) wake = std::min(wake, handover_deadline_);
  }
  return wake;
}

void Replica::become_candidate(core::TimePoint now) {
  suspected_at_ = now;
  beacon_before_suspicion_ = beacon_heard_at_;
  set_role(now, Role::kCandidate);
  note(false, "no beacon from " + (primary_.empty() ? std::string("any primary") : primary_) + " for " +
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(grace()).count()) +
                  "ms: asking the arbiter");
  if (!record_read_pending_) {
    record_read_pending_ = true;
    out_.push_back(act::ReadRecord{});
  }
}

bool Replica::accept_record(const arbiter::Record& r) {
  std::string why;
  if (!start_.cluster_id.empty() && r.cluster_id != start_.cluster_id)
    why = "the arbiter's record is of cluster " + r.cluster_id + ", this node's is " + start_.cluster_id +
          " (an arbiter that lost its state? see `failover witness recover`)";
  else if (r.epoch < start_.highest_epoch)
    why = "the arbiter's record is at epoch " + std::to_string(r.epoch) + ", below epoch " +
          std::to_string(start_.highest_epoch) + " this node has seen (rolled back? see `failover witness recover`)";
  if (why != refusal_ && !why.empty()) note(true, "refusing the arbiter: " + why);
  refusal_ = why;
  return why.empty();
}

bool Replica::eligible(const arbiter::Record& r) const {
  return r.has_member(config_.node, start_.storage_id);
}

bool Replica::in_sync() const {
  if (role_ == Role::kBackup) return told_in_sync_ && synced_epoch_ == epoch_;
  return role_ == Role::kPrimary && record_ && record_->has_member(config_.node, start_.storage_id);
}

void Replica::learn_epoch(core::TimePoint now, std::uint64_t epoch, const std::string& primary) {
  if (epoch <= epoch_) return;
  epoch_ = epoch;
  primary_ = primary;
  primary_commit_ = 0;
  if (epoch > start_.highest_epoch) {
    start_.highest_epoch = epoch;
    out_.push_back(act::SaveMeta{start_.cluster_id, epoch});
  }
  if (role_ == Role::kPrimary) {
    fence(now, "epoch " + std::to_string(epoch) + " has primary " + primary);
    return;
  }
  // A candidate whose compare-and-set is out waits for its answer: it may
  // be its own epoch that it is learning of.
  if (role_ == Role::kCandidate && (cas_proposed_ || cas_maybe_landed_)) return;
  set_role(now, Role::kBackup);
  heard_at_ = now;  // give the new primary a whole grace to reach us
}

Actions Replica::record_read(core::TimePoint now, const core::Result<arbiter::Record>& record) {
  record_read_pending_ = false;
  if (!record) {
    note(true, "arbiter: " + record.error().to_string() + (role_ == Role::kCandidate ? " (no failover is possible without it)" : ""));
    record_retry_at_ = now + config_.record_retry;
    return take();
  }
  if (!accept_record(*record)) {
    record_retry_at_ = now + config_.heartbeat_timeout;
    if (role_ == Role::kCandidate) set_role(now, Role::kBackup);
    heard_at_ = now;
    return take();
  }
  if (cas_proposed_ && cas_maybe_landed_) {
    // Our compare-and-set got no answer: the record says whether it landed.
    const arbiter::Record proposed = *cas_proposed_;
    cas_proposed_.reset();
    cas_maybe_landed_ = false;
    if (*record == proposed) {
      granted(now, *record);
      return take();
    }
    if (record->version + 1 == proposed.version) {
      on_record(now, *record);  // it did not land; decide again from what is there
      return take();
    }
    if (role_ == Role::kPrimary) fence(now, "the record changed under a pending compare-and-set");
  }
  on_record(now, *record);
  return take();
}

void Replica::on_record(core::TimePoint now, const arbiter::Record& r) {
  if (start_.cluster_id.empty() || r.epoch > start_.highest_epoch) {
    start_.cluster_id = r.cluster_id;
    start_.highest_epoch = std::max(start_.highest_epoch, r.epoch);
    out_.push_back(act::SaveMeta{start_.cluster_id, start_.highest_epoch});
  }
  record_ = r;
  not_promotable_ = eligible(r) ? "" : "not in the record's in_sync with storage_id " + start_.storage_id;
  if (r.epoch > epoch_) learn_epoch(now, r.epoch, r.primary);
  if (r.epoch == epoch_ && primary_.empty()) primary_ = r.primary;

  switch (role_) {
    case Role::kPrimary:
      if (r.epoch != epoch_ || r.primary != config_.node) fence(now, "the record names " + r.primary + " in epoch " + std::to_string(r.epoch));
      return;
    case Role::kFenced:
      set_role(now, Role::kBackup);
      heard_at_ = now;
      break;
    case Role::kBackup:
    case Role::kCandidate:
      break;
  }
  if (cas_proposed_) return;  // one compare-and-set at a time
  if (take_handed_role(now, r)) return;

  if (r.epoch == 0) {
    // No primary yet: the first node to ask takes the role, if it holds
    // nothing (a node with data and an empty record means the arbiter lost
    // its state, which accept_record refuses unless the cluster is new).
    if (last_seq_ == 0 && r.primary.empty()) {
      arbiter::Record first = r;
      first.version = r.version + 1;
      first.epoch = 1;
      first.primary = config_.node;
      first.in_sync = {{config_.node, start_.storage_id}};
      propose_record(now, std::move(first));
    }
    return;
  }
  // A restarted primary (the record still names it) takes a new epoch at
  // once; a candidate whose grace ended takes one if it may.
  const bool restarted_primary = r.primary == config_.node && role_ != Role::kPrimary;
  if (restarted_primary || role_ == Role::kCandidate) {
    if (!eligible(r)) {
      if (role_ == Role::kCandidate) {
        note(true, "cannot take over: " + not_promotable_);
        set_role(now, Role::kBackup);
        heard_at_ = now;
      }
      return;
    }
    if (restarted_primary) {
      suspected_at_ = now;
      beacon_before_suspicion_ = {};
    }
    arbiter::Record next = r;
    next.version = r.version + 1;
    next.epoch = r.epoch + 1;
    next.primary = config_.node;
    next.in_sync = {{config_.node, start_.storage_id}};
    propose_record(now, std::move(next));
  }
}

void Replica::propose_record(core::TimePoint, arbiter::Record proposed) {
  const std::uint64_t expected = proposed.version - 1;
  cas_proposed_ = proposed;
  out_.push_back(act::CasRecord{expected, std::move(proposed)});
}

Actions Replica::cas_done(core::TimePoint now, const core::Result<arbiter::Record>& result,
                          const std::optional<arbiter::Record>& current) {
  if (!cas_proposed_ || cas_maybe_landed_) return take();  // an answer we no longer wait for
  if (result) {
    cas_proposed_.reset();
    granted(now, *result);
    return take();
  }
  if (result.is(core::ErrorCode::kConflict)) {
    cas_proposed_.reset();
    if (role_ == Role::kPrimary) fence(now, "the arbiter's record changed: " + result.error().message);
    if (current && accept_record(*current)) {
      on_record(now, *current);
    } else if (!record_read_pending_) {
      record_read_pending_ = true;
      out_.push_back(act::ReadRecord{});
    }
    return take();
  }
  note(true, "arbiter: " + result.error().to_string());
  if (result.is(core::ErrorCode::kUnavailable)) {
    cas_proposed_.reset();  // never sent: nothing landed
  } else {
    cas_maybe_landed_ = true;  // until a read of the record says
  }
  record_retry_at_ = now + config_.record_retry;
  return take();
}

void Replica::granted(core::TimePoint now, const arbiter::Record& r) {
  const bool promotion = r.primary == config_.node && (role_ != Role::kPrimary || r.epoch > epoch_);
  if (r.epoch > start_.highest_epoch || start_.cluster_id.empty()) {
    start_.cluster_id = r.cluster_id;
    start_.highest_epoch = std::max(start_.highest_epoch, r.epoch);
    out_.push_back(act::SaveMeta{start_.cluster_id, start_.highest_epoch});
  }
  record_ = r;
  if (role_ == Role::kPrimary && !handover_to_.empty() && r.primary == handover_to_ && r.epoch > epoch_) {
    handed_over(now, r);
    return;
  }
  if (promotion) {
    promoted(now, r);
    return;
  }
  if (role_ == Role::kPrimary) {
    check_members(now);
    advance_commit(now);
  }
}

void Replica::promoted(core::TimePoint now, const arbiter::Record& r) {
  promoted_at_ = now;
  epoch_ = r.epoch;
  primary_ = config_.node;
  set_role(now, Role::kPrimary);
  failovers_.push_back(FailoverTiming{r.epoch, suspected_at_, now, {}, {}, beacon_before_suspicion_});
  if (failovers_.size() > 16) failovers_.erase(failovers_.begin());
  note(false, "primary of epoch " + std::to_string(r.epoch) + " (" +
                  std::to_string(core::millis_between(suspected_at_, now)) + "ms after the primary was suspected)");
  // The new epoch opens with an entry of its own: committing it commits the
  // whole log before it (reconciliation), and marks where the epoch starts
  // for a returning node's truncation.
  Entry open;
  open.epoch = epoch_;
  open.seq = last_seq_ + 1;
  open.op = Op::kNoop;
  epoch_start_seq_ = open.seq;
  reconciled_ = false;
  append_local({std::move(open)});
  for (auto& [name, p] : peers_) {
    p = PeerView{};
    p.name = name;
  }
  beacon(now);
}

void Replica::fence(core::TimePoint now, const std::string& why) {
  handover_to_.clear();
  if (role_ == Role::kPrimary) {
    out_.push_back(act::FailWrites{commit_seq_, "no longer primary: " + why});
    note(true, "fenced: " + why);
  }
  reconciled_ = false;
  set_role(now, Role::kFenced);
  if (!record_read_pending_ && !cas_proposed_) {
    record_read_pending_ = true;
    out_.push_back(act::ReadRecord{});
  }
}

std::optional<std::string> Replica::known_primary(core::TimePoint now) const {
  if (role_ == Role::kPrimary) return config_.node;
  if (primary_.empty() || primary_ == config_.node) return std::nullopt;
  if (now - heard_at_ > 2 * config_.heartbeat_interval) return std::nullopt;
  return primary_;
}

}  // namespace failover::store
