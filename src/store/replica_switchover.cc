// A planned switchover: the primary hands its role to an in-sync backup
// with nothing lost and no grace waited out (replica.h, switchover()).
//
//   primary                          target
//   refuse new writes
//   wait: target durable and everything committed
//   CAS: record names target, epoch+1
//   step down to backup (read-only) --Handover(epoch+1)-->  read the record
//                                                            named in that epoch: promoted
//                                   <--Append(epoch+1)---   opens the epoch, reconciles
//
// Safety is the record's, as in a failover: the target is promoted only in
// the epoch the compare-and-set gave it, only in in_sync with its own
// storage_id, and the old primary serves nothing from the moment its
// compare-and-set is out (the target may read the record from then on).
#include "store/replica.h"

namespace failover::store {

core::Result<Actions> Replica::switchover(core::TimePoint now, const std::string& target) {
  if (role_ != Role::kPrimary || !reconciled_ || !record_)
    return core::Error::invalid(std::string("only a serving primary hands its role over; this node is ") +
                                role_name(role_));
  if (!handover_to_.empty()) return core::Error::conflict("a switchover to " + handover_to_ + " is under way");
  if (target == config_.node) return core::Error::invalid(target + " is this node, the primary already");
  auto it = peers_.find(target);
  if (it == peers_.end()) return core::Error::invalid("no peer named " + target);
  if (it->second.storage_id.empty() || !record_->has_member(target, it->second.storage_id))
    return core::Error::invalid(target + " is not in in_sync: it may lack acknowledged writes");
  handover_to_ = target;
  handover_deadline_ = now + config_.switchover_timeout;
  note(false, "switching over to " + target + ": new writes wait until it holds every entry");
  try_handover(now);
  return take();
}

void Replica::try_handover(core::TimePoint now) {
  if (handover_to_.empty() || role_ != Role::kPrimary || cas_proposed_ || cas_maybe_landed_) return;
  const PeerView& target = peers_.at(handover_to_);
  std::string abandon;
  if (!record_->has_member(handover_to_, target.storage_id)) abandon = "it left in_sync";
  else if (now >= handover_deadline_)
    abandon = "it did not catch up within " + std::to_string(config_.switchover_timeout.count()) + "ms";
  if (!abandon.empty()) {
    note(true, "switchover to " + handover_to_ + " abandoned, writes resume: " + abandon);
    handover_to_.clear();
    return;
  }
  // Every entry this node wrote is on the target's disk and committed: it
  // can take over with no write to reconcile and none to fail.
  if (target.durable_seq < last_seq_ || commit_seq_ < last_seq_) return;
  arbiter::Record next = *record_;
  next.version = record_->version + 1;
  next.epoch = record_->epoch + 1;
  next.primary = handover_to_;
  propose_record(now, std::move(next));
}

void Replica::handed_over(core::TimePoint now, const arbiter::Record& r) {
  const std::string to = handover_to_;
  handover_to_.clear();
  out_.push_back(act::FailWrites{commit_seq_, "switched over to " + to});  // none: new writes were refused
  reconciled_ = false;
  epoch_ = r.epoch;
  primary_ = to;
  primary_commit_ = 0;
  set_role(now, Role::kBackup);
  heard_at_ = now;  // the target's first beacon is a round trip away
  out_.push_back(act::Send{to, Handover{r.epoch, config_.node}});
  note(false, "handed the primary role to " + to + " in epoch " + std::to_string(r.epoch));
}

void Replica::on_handover(core::TimePoint, const Handover& m) {
  if (m.epoch <= epoch_ || role_ == Role::kPrimary) return;  // old news
  handover_epoch_ = m.epoch;
  if (!record_read_pending_) {
    record_read_pending_ = true;
    out_.push_back(act::ReadRecord{});
  }
}

bool Replica::take_handed_role(core::TimePoint now, const arbiter::Record& r) {
  if (handover_epoch_ == 0) return false;
  if (r.epoch < handover_epoch_) {
    // A read sent before the compare-and-set landed: ask again.
    if (!record_read_pending_) {
      record_read_pending_ = true;
      out_.push_back(act::ReadRecord{});
    }
    return false;
  }
  const bool mine = r.epoch == handover_epoch_ && r.primary == config_.node && role_ != Role::kPrimary;
  handover_epoch_ = 0;
  if (!mine || !eligible(r)) return false;
  suspected_at_ = now;  // the failover's timing starts at the Handover's record
  beacon_before_suspicion_ = {};
  promoted(now, r);
  return true;
}

}  // namespace failover::store
