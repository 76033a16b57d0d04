// The primary's side: writes, beacons and the lease, feeding each backup,
// the commit point, and shrinking and growing in_sync by compare-and-set.
#include <algorithm>

#include "store/replica.h"

namespace failover::store {
namespace {

bool lease_expired(const PeerView& p, core::Duration lease, core::TimePoint now) {
  return p.lease_from == core::TimePoint{} || now >= p.lease_from + lease;
}

}  // namespace

// The beacon token is the send time itself: the primary reads it back from
// the ack and never compares it with anybody else's clock.
std::uint64_t Replica::beacon_token(core::TimePoint now) const {
  return static_cast<std::uint64_t>(now.time_since_epoch().count());
}

std::variant<Replica::Proposed, Refusal> Replica::propose(core::TimePoint now, std::vector<Proposal> writes) {
  if (const std::optional<Refusal> no = read_refusal(now); no && no->kind == Refusal::Kind::kNotPrimary) return *no;
  if (!reconciled_) return Refusal{Refusal::Kind::kNotReady, "reconciling after promotion"};
  if (!handover_to_.empty()) return Refusal{Refusal::Kind::kNotReady, "switching over to " + handover_to_};
  if (config_.strict) {
    const bool alone = !record_ || record_->in_sync.size() < 2;
    if (alone) return Refusal{Refusal::Kind::kStrict, "strict: no in-sync backup"};
    if (!lease_held(now)) return Refusal{Refusal::Kind::kStrict, "strict: a backup stopped acknowledging"};
  }
  Proposed out;
  out.first_seq = last_seq_ + 1;
  std::vector<Entry> entries;
  entries.reserve(writes.size());
  for (Proposal& w : writes) {
    Entry e;
    e.epoch = epoch_;
    e.seq = last_seq_ + 1 + entries.size();
    e.op = w.op;
    e.key = std::move(w.key);
    e.value = std::move(w.value);
    e.idempotency_key = std::move(w.idempotency_key);
    entries.push_back(std::move(e));
  }
  append_local(std::move(entries));
  for (auto& [name, peer] : peers_) send_entries(now, peer, false);
  out.actions = take();
  return out;
}

std::optional<Refusal> Replica::read_refusal(core::TimePoint now) const {
  if (role_ != Role::kPrimary) return Refusal{Refusal::Kind::kNotPrimary, std::string("this node is ") + role_name(role_)};
  if (!reconciled_) return Refusal{Refusal::Kind::kNotReady, "reconciling after promotion"};
  if (!lease_held(now)) return Refusal{Refusal::Kind::kNotReady, "lease lapsed: a backup stopped acknowledging"};
  // Once the record may name the target, the target may serve (a restart
  // reads it): this node no longer may, whatever its lease says.
  if (!handover_to_.empty() && (cas_proposed_ || cas_maybe_landed_))
    return Refusal{Refusal::Kind::kNotReady, "switching over to " + handover_to_};
  return std::nullopt;
}

void Replica::beacon(core::TimePoint now) {
  for (auto& [name, peer] : peers_) send_entries(now, peer, true);
  next_beacon_ = now + config_.heartbeat_interval;
}

std::uint8_t Replica::rank_of(const PeerView& peer) const {
  // The in-sync backups further along than `peer` (a tie goes to the name
  // first in order), so that no two share a rank.
  int ahead = 0;
  for (const arbiter::Member& m : record_->in_sync) {
    if (m.node == config_.node || m.node == peer.name) continue;
    auto it = peers_.find(m.node);
    if (it == peers_.end()) continue;
    const std::uint64_t theirs = it->second.match_seq;
    if (theirs > peer.match_seq || (theirs == peer.match_seq && m.node < peer.name)) ++ahead;
  }
  return static_cast<std::uint8_t>(std::min(ahead, 255));
}

void Replica::send_entries(core::TimePoint now, PeerView& peer, bool force_beacon) {
  Append a;
  a.epoch = epoch_;
  a.from = config_.node;
  a.commit_seq = commit_seq_;
  a.beacon = beacon_token(now);
  a.in_sync = record_ && !peer.storage_id.empty() && record_->has_member(peer.name, peer.storage_id);
  a.rank = a.in_sync ? rank_of(peer) : 0;
  if (!peer.streaming) {
    // Not reconciled yet: a bare beacon tells it our epoch; its answer
    // starts KIP-101 (kNeedEpoch) or says where it stands (kOk).
    if (force_beacon) {
      a.prev_seq = last_seq_;
      out_.push_back(act::SendAppend{peer.name, a, last_seq_, Lane::kControl});
    }
    return;
  }
  if (peer.needs_checkpoint(first_seq_)) {
    // Entries cannot bring it back: offer a checkpoint (again only after
    // checkpoint_retry, as making one is not free) and keep beating.
    if (peer.checkpoint_offered == core::TimePoint{} || now >= peer.checkpoint_offered + config_.checkpoint_retry) {
      peer.checkpoint_offered = now;
      out_.push_back(act::SendCheckpoint{peer.name});
    }
    if (force_beacon) {
      a.prev_seq = last_seq_;
      out_.push_back(act::SendAppend{peer.name, a, last_seq_, Lane::kControl});
    }
    return;
  }
  // The beacon goes on the control lane, claiming only what the peer has
  // acknowledged holding: it may overtake entries still on the data lane,
  // and must not make the peer answer kGap for them.
  if (force_beacon) {
    a.prev_seq = std::min(peer.match_seq, peer.next_seq - 1);
    out_.push_back(act::SendAppend{peer.name, a, a.prev_seq, Lane::kControl});
  }
  bool sent = false;
  while (peer.next_seq <= last_seq_ && peer.next_seq - peer.match_seq - 1 < config_.max_in_flight) {
    const std::uint64_t upto = std::min(last_seq_, peer.next_seq + config_.max_batch - 1);
    a.prev_seq = peer.next_seq - 1;
    out_.push_back(act::SendAppend{peer.name, a, upto, Lane::kData});
    peer.next_seq = upto + 1;
    sent = true;
  }
  // Entries sent and not acknowledged: a probe behind them on the data lane.
  // It arrives after them, so a kGap answer means they were lost (a broken
  // connection, a full queue) and are sent again from what the peer holds.
  if (!sent && force_beacon && peer.next_seq - 1 > peer.match_seq) {
    a.prev_seq = peer.next_seq - 1;
    out_.push_back(act::SendAppend{peer.name, a, a.prev_seq, Lane::kData});
  }
}

Actions Replica::link_up(core::TimePoint now, const std::string& name) {
  auto it = peers_.find(name);
  if (role_ == Role::kPrimary && it != peers_.end()) send_entries(now, it->second, true);
  return take();
}

Actions Replica::log_discarded(core::TimePoint, std::uint64_t first_seq) {
  first_seq_ = std::max(first_seq_, first_seq);
  return take();
}

void Replica::on_ack(core::TimePoint now, const AppendAck& m) {
  if (m.epoch > epoch_) {
    learn_epoch(now, m.epoch, "");
    return;
  }
  if (m.epoch < epoch_ || role_ != Role::kPrimary) return;  // it has yet to hear of our epoch
  auto it = peers_.find(m.from);
  if (it == peers_.end()) return;
  PeerView& peer = it->second;
  peer.last_ack = now;
  peer.storage_id = m.storage_id;
  if (m.beacon != 0) {
    const core::TimePoint sent{core::SteadyClockType::duration(m.beacon)};
    peer.lease_from = std::max(peer.lease_from, std::min(sent, now));
  }
  switch (m.status) {
    case AppendAck::Status::kStaleEpoch:
      return;  // same epoch: cannot be; a higher one was handled above
    case AppendAck::Status::kNeedEpoch: {
      peer.streaming = false;
      peer.counted = false;
      // KIP-279: our largest epoch not above its last one, and where it ends.
      EpochEnd e;
      e.epoch = epoch_;
      e.from = config_.node;
      e.end = epochs_.end_of(m.last_epoch, last_seq_);
      e.leader_epoch = e.end > 1 ? epochs_.epoch_at(e.end - 1) : 0;
      out_.push_back(act::Send{peer.name, std::move(e)});
      return;
    }
    case AppendAck::Status::kGap:
    case AppendAck::Status::kOk: {
      const std::uint64_t held = std::min(m.last_seq, last_seq_);
      if (!peer.streaming || m.status == AppendAck::Status::kGap) {
        peer.streaming = true;
        peer.next_seq = held + 1;  // resend from there
        peer.match_seq = held;
        peer.durable_seq = std::min(m.durable_seq, held);
      } else {
        peer.match_seq = std::max(peer.match_seq, held);
        peer.durable_seq = std::max(peer.durable_seq, std::min(m.durable_seq, held));
      }
      break;
    }
  }
  send_entries(now, peer, false);
  check_members(now);
  advance_commit(now);
  try_handover(now);
}

core::TimePoint Replica::lease_until() const {
  if (role_ != Role::kPrimary || !record_) return {};
  core::TimePoint until = core::TimePoint::max();
  for (const arbiter::Member& m : record_->in_sync) {
    if (m.node == config_.node) continue;
    auto it = peers_.find(m.node);
    if (it == peers_.end() || it->second.storage_id != m.storage_id || it->second.lease_from == core::TimePoint{})
      return {};
    until = std::min(until, it->second.lease_from + config_.lease);
  }
  return until;
}

bool Replica::lease_held(core::TimePoint now) const { return role_ == Role::kPrimary && now < lease_until(); }

core::Duration Replica::lease_left(core::TimePoint now) const {
  const core::TimePoint until = lease_until();
  if (until == core::TimePoint::max()) return core::Duration::max();
  if (until <= now) return core::Duration{0};
  return std::chrono::duration_cast<core::Duration>(until - now);
}

void Replica::advance_commit(core::TimePoint now) {
  if (role_ != Role::kPrimary || !record_) return;
  // Committed = durable on every member of in_sync and every counted peer.
  std::uint64_t c = durable_seq_;
  for (const arbiter::Member& m : record_->in_sync) {
    if (m.node == config_.node) continue;
    auto it = peers_.find(m.node);
    if (it == peers_.end() || it->second.storage_id != m.storage_id) return;
    c = std::min(c, it->second.durable_seq);
  }
  for (const auto& [name, p] : peers_)
    if (p.counted) c = std::min(c, p.durable_seq);
  // Acknowledge only inside the lease: outside it a new primary may exist.
  if (c <= commit_seq_ || !lease_held(now)) return;
  commit_seq_ = c;
  out_.push_back(act::Commit{c});
  if (!failovers_.empty() && failovers_.back().epoch == epoch_) {
    FailoverTiming& f = failovers_.back();
    if (!reconciled_ && c >= epoch_start_seq_) f.reconciled = now;
    if (f.first_write == core::TimePoint{} && c > epoch_start_seq_) f.first_write = now;
  }
  if (c >= epoch_start_seq_) reconciled_ = true;
}

void Replica::check_members(core::TimePoint now) {
  if (role_ != Role::kPrimary || !record_ || cas_proposed_ || cas_maybe_landed_) return;
  // Shrink: a member whose acks stopped for a lease (or that came back with
  // another disk) no longer counts; until the record says so, nothing is
  // acknowledged (the lease has lapsed), so nothing waits on it silently.
  // A member not heard from yet in this epoch gets a lease from the
  // promotion (after a switchover the old primary is one, a round trip away).
  const bool fresh = now < promoted_at_ + config_.lease;
  const auto gone = [&](const arbiter::Member& m) {
    if (m.node == config_.node) return false;
    auto it = peers_.find(m.node);
    const bool unheard = it != peers_.end() && it->second.lease_from == core::TimePoint{};
    return it == peers_.end() || (lease_expired(it->second, config_.lease, now) && !(unheard && fresh)) ||
           (!it->second.storage_id.empty() && it->second.storage_id != m.storage_id);
  };
  // Checked on every ack: the record is copied only when a member goes.
  std::string dropped;
  for (const arbiter::Member& m : record_->in_sync)
    if (gone(m)) dropped += (dropped.empty() ? "" : ", ") + m.node;
  if (!dropped.empty()) {
    arbiter::Record next = *record_;
    std::erase_if(next.in_sync, gone);
    if (config_.strict) out_.push_back(act::FailWrites{commit_seq_, "strict: in-sync backup " + dropped + " stopped acknowledging"});
    note(true, "removing " + dropped + " from in_sync: no acknowledgement for " + std::to_string(config_.lease.count()) + "ms");
    next.version = record_->version + 1;
    propose_record(now, std::move(next));
    return;
  }
  // Grow: a peer that caught up to the commit point is counted for every
  // write from there on; once it holds everything up to where counting
  // began, it holds every acknowledged write, and enters in_sync.
  for (auto& [name, p] : peers_) {
    if (record_->member(name)) continue;
    if (p.counted && lease_expired(p, config_.lease, now)) p.counted = false;
    if (!p.streaming || p.storage_id.empty() || lease_expired(p, config_.lease, now)) continue;
    if (!p.counted && p.durable_seq >= commit_seq_) {
      p.counted = true;
      p.count_point = last_seq_;
    }
    if (p.counted && p.durable_seq >= p.count_point) {
      arbiter::Record grown = *record_;
      grown.version = record_->version + 1;
      grown.in_sync.push_back({name, p.storage_id});
      note(false, "adding " + name + " to in_sync: it holds every acknowledged write");
      propose_record(now, std::move(grown));
      return;
    }
  }
}

}  // namespace failover::store
