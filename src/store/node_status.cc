// /status and /metrics of a store node: what an operator asks when a
// failover took longer than expected, or a write was refused.
#include <boost/json.hpp>

#include "arbiter/record.h"
#include "store/node.h"

namespace failover::store {
namespace json = boost::json;

namespace {

long long ms(core::Duration d) { return d.count(); }

long long ms_between(core::TimePoint a, core::TimePoint b) {
  if (a == core::TimePoint{} || b == core::TimePoint{}) return -1;
  return core::millis_between(a, b);
}

json::value record_json(const std::optional<arbiter::Record>& r) {
  if (!r) return nullptr;
  return json::parse(arbiter::to_json(*r));
}

}  // namespace

std::string StoreNode::status_json() const {
  const core::TimePoint now = clock_.now();
  const Replica& r = *replica_;
  json::object o;
  o["role"] = role_name(r.role());
  o["component"] = "store";
  o["node"] = config_.node;
  o["epoch"] = r.epoch();
  o["last_seq"] = r.last_seq();
  o["durable_seq"] = r.durable_seq();
  o["commit_seq"] = r.commit_seq();
  o["applied_seq"] = applied_seq_;
  o["large_keys"] = large_keys_.size();  // values read and applied off the io thread
  o["storage_id"] = meta_.storage_id;
  o["cluster_id"] = meta_.cluster_id;
  o["highest_epoch"] = meta_.highest_epoch;
  o["in_sync"] = r.in_sync();
  o["switching_to"] = r.switching_to().empty() ? json::value(nullptr) : json::value(r.switching_to());
  o["serving"] = !r.read_refusal(now).has_value();
  if (auto refusal = r.read_refusal(now)) o["not_serving_because"] = refusal->reason;
  const std::optional<std::string> primary = r.known_primary(now);
  o["primary"] = primary ? json::value(*primary) : json::value(nullptr);
  const core::Duration lease = r.lease_left(now);
  o["lease_left_ms"] = r.role() != Role::kPrimary ? json::value(0)
                       : lease == core::Duration::max() ? json::value("unbounded (alone in in_sync)")
                                                        : json::value(ms(lease));
  o["disk"] = json::object{{"free_bytes", disk_.free_bytes() == UINT64_MAX ? json::value(nullptr) : json::value(disk_.free_bytes())},
                           {"min_free_disk", disk_.min_free()},
                           {"full", disk_.full()}};
  if (disk_.full()) o["disk"].as_object()["reason"] = disk_.reason();
  if (vip_)
    o["vip"] = json::object{{"address", vip_->config().address},
                            {"interface", vip_->config().interface},
                            {"held", vip_->held()},
                            {"announcements", vip_->announcements()}};
  o["record"] = record_json(r.record());
  o["arbiter"] = json::object{{"address", arbiter_name(config_)},
                              {"reachable", arbiter_reachable_},
                              {"refused", r.witness_refused()}};
  if (!r.why_not_promotable().empty()) o["not_promotable_because"] = r.why_not_promotable();
  json::array peers;
  const auto link_stats = links_->stats();
  for (const auto& [name, p] : r.peers()) {
    json::object po{{"node", name},
                     {"connected", link_stats.contains(name) && link_stats.at(name).connected},
                     {"storage_id", p.storage_id},
                     {"streaming", p.streaming},
                     {"match_seq", p.match_seq},
                     {"durable_seq", p.durable_seq},
                     {"lag", r.role() == Role::kPrimary && p.streaming ? r.last_seq() - p.match_seq : 0},
                     {"last_ack_ms_ago", p.last_ack == core::TimePoint{} ? -1 : core::millis_between(p.last_ack, now)},
                     {"in_sync", r.record() && r.record()->has_member(name, p.storage_id)},
                     {"counted", p.counted},
                     {"needs_checkpoint", r.role() == Role::kPrimary && p.needs_checkpoint(r.first_seq())},
                     {"checkpoint_offered_ms_ago", p.checkpoint_offered == core::TimePoint{}
                                                       ? -1
                                                       : core::millis_between(p.checkpoint_offered, now)}};
    peers.push_back(std::move(po));
  }
  o["peers"] = std::move(peers);
  json::array failovers;
  for (const FailoverTiming& f : r.failovers()) {
    failovers.push_back(json::object{{"epoch", f.epoch},
                                     {"last_beacon_to_suspected_ms", ms_between(f.last_beacon, f.suspected)},
                                     {"suspected_to_cas_granted_ms", ms_between(f.suspected, f.cas_granted)},
                                     {"cas_granted_to_reconciled_ms", ms_between(f.cas_granted, f.reconciled)},
                                     {"reconciled_to_first_write_ms", ms_between(f.reconciled, f.first_write)},
                                     {"total_to_serving_ms", ms_between(f.suspected, f.reconciled)},
                                     {"ago_ms", core::millis_between(f.cas_granted, now)}});
  }
  o["failovers"] = std::move(failovers);
  json::array changes;
  for (const RoleChange& c : role_changes_)
    changes.push_back(json::object{{"from", role_name(c.from)},
                                   {"to", role_name(c.to)},
                                   {"epoch", c.epoch},
                                   {"ago_ms", core::millis_between(c.at, now)}});
  o["role_changes"] = std::move(changes);
  o["requests"] = json::object{{"writes", counters_.writes},
                               {"writes_failed", counters_.writes_failed},
                               {"write_groups", counters_.groups},
                               {"reads", counters_.reads},
                               {"redirects", counters_.redirects},
                               {"unavailable", counters_.unavailable},
                               {"waiting", waiting_.size()}};
  o["bad_frames"] = links_->bad_frames();
  o["stale_epoch_messages"] = r.stale_epoch_messages();
  o["worst_beacon_gap_ms"] = ms(r.worst_beacon_gap());
  o["log"] = json::object{{"first_seq", r.first_seq()},
                          {"keep_entries", config_.log_keep_entries},
                          {"discards", checkpoint_counters_.discards},
                          {"fsyncs", writer_->syncs()},
                          {"fsynced_entries", writer_->synced_entries()}};
  o["checkpoints"] = json::object{{"installing", r.installing_checkpoint()},
                                  {"offered", checkpoint_counters_.offered},
                                  {"installed", checkpoint_counters_.installed},
                                  {"failed", checkpoint_counters_.failed}};
  return json::serialize(o);
}

void StoreNode::metrics(core::MetricsWriter& out) const {
  const core::TimePoint now = clock_.now();
  const Replica& r = *replica_;
  for (Role role : {Role::kBackup, Role::kCandidate, Role::kPrimary, Role::kFenced})
    out.gauge("failover_store_role", "1 for the role this node has now", {{"role", role_name(role)}},
              r.role() == role);
  out.gauge("failover_store_epoch", "The epoch this node knows", {}, r.epoch());
  if (vip_) out.gauge("failover_store_vip_held", "1 while this node holds the VIP", {}, vip_->held() ? 1 : 0);
  out.gauge("failover_store_disk_full", "1 while free space under data_dir is below min_free_disk (writes 507)", {},
            disk_.full() ? 1 : 0);
  out.gauge("failover_store_commit_seq", "The highest committed seq", {}, r.commit_seq());
  out.gauge("failover_store_applied_seq", "The highest seq applied to RocksDB", {}, applied_seq_);
  out.gauge("failover_store_last_seq", "The end of the log", {}, r.last_seq());
  out.gauge("failover_store_serving", "1 when this node serves reads and writes as primary", {},
            !r.read_refusal(now).has_value());
  const core::Duration lease = r.lease_left(now);
  out.gauge("failover_store_lease_left_seconds", "Lease time left as primary (+Inf alone in in_sync)", {},
            lease == core::Duration::max() ? std::numeric_limits<double>::infinity()
                                           : static_cast<double>(lease.count()) / 1000.0);
  out.gauge("failover_store_arbiter_reachable", "1 when the last call to the arbiter got an answer", {},
            arbiter_reachable_);
  for (const auto& [name, p] : r.peers()) {
    out.gauge("failover_store_peer_lag_entries", "Entries the peer is behind the primary's log", {{"peer", name}},
              r.role() == Role::kPrimary && p.streaming ? r.last_seq() - p.match_seq : 0);
    out.gauge("failover_store_peer_in_sync", "1 when the record has the peer in in_sync", {{"peer", name}},
              r.record() && r.record()->has_member(name, p.storage_id));
  }
  out.counter("failover_store_writes_total", "Writes acknowledged", {}, counters_.writes);
  out.counter("failover_store_writes_failed_total", "Writes answered with an error after they were accepted", {},
              counters_.writes_failed);
  out.counter("failover_store_write_groups_total", "Groups of writes proposed together (one fsync each)", {},
              counters_.groups);
  out.counter("failover_store_reads_total", "Reads served", {}, counters_.reads);
  out.counter("failover_store_redirects_total", "Requests answered 307 to the primary", {}, counters_.redirects);
  out.counter("failover_store_unavailable_total", "Requests answered 503", {}, counters_.unavailable);
  out.counter("failover_store_bad_frames_total", "Replication connections closed for garbage", {},
              links_->bad_frames());
  out.counter("failover_store_stale_epoch_messages_total",
              "Replication messages from an epoch below this node's, refused at the door", {},
              replica_->stale_epoch_messages());
  out.gauge("failover_store_worst_beacon_gap_seconds",
            "As a backup, the longest time between two beacons of one primary since the start", {},
            static_cast<double>(r.worst_beacon_gap().count()) / 1000.0);
  out.gauge("failover_store_log_first_seq", "The oldest entry the log still holds", {}, r.first_seq());
  out.counter("failover_store_log_fsyncs_total", "Groups of entries appended to the log, one fsync each", {},
              writer_->syncs());
  out.counter("failover_store_log_fsynced_entries_total", "Entries in those groups", {}, writer_->synced_entries());
  out.counter("failover_store_checkpoints_offered_total", "Checkpoints made for a peer that needed discarded entries",
              {}, checkpoint_counters_.offered);
  out.counter("failover_store_checkpoints_installed_total", "Checkpoints fetched from the primary and installed", {},
              checkpoint_counters_.installed);
  out.counter("failover_store_checkpoints_failed_total", "Checkpoint fetches or installs that failed", {},
              checkpoint_counters_.failed);
  out.counter("failover_store_failovers_total", "Promotions of this node", {}, r.failovers().size());
  if (!r.failovers().empty()) {
    const FailoverTiming& f = r.failovers().back();
    out.gauge("failover_store_last_failover_seconds", "The last promotion of this node, phase by phase",
              {{"phase", "suspected_to_cas_granted"}}, ms_between(f.suspected, f.cas_granted) / 1000.0);
    out.gauge("failover_store_last_failover_seconds", "The last promotion of this node, phase by phase",
              {{"phase", "cas_granted_to_reconciled"}}, ms_between(f.cas_granted, f.reconciled) / 1000.0);
    out.gauge("failover_store_last_failover_seconds", "The last promotion of this node, phase by phase",
              {{"phase", "reconciled_to_first_write"}}, ms_between(f.reconciled, f.first_write) / 1000.0);
  }
  histograms_.write(out);
}

}  // namespace failover::store
