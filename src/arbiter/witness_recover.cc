#include "arbiter/witness_recover.h"

#include <boost/json.hpp>
#include <limits>
#include <tuple>

namespace failover::arbiter {
namespace json = boost::json;

core::Result<NodeReport> parse_node_status(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return core::Error::invalid("status: not a JSON object");
  const json::object& o = v.get_object();
  const json::value* record = o.if_contains("record");
  if (!record || !record->is_object()) return core::Error::invalid("status: no \"record\" object");
  core::Result<Record> parsed = record_from_json(json::serialize(*record));
  if (!parsed) return core::Error::invalid("status: " + parsed.error().message);
  NodeReport report;
  report.record = std::move(*parsed);
  const json::value* highest = o.if_contains("highest_epoch");
  if (highest && highest->is_uint64()) report.highest_epoch = highest->get_uint64();
  else if (highest && highest->is_int64() && highest->get_int64() >= 0)
    report.highest_epoch = static_cast<std::uint64_t>(highest->get_int64());
  else return core::Error::invalid("status: \"highest_epoch\" must be a non-negative integer");
  return report;
}

core::Result<Recovery> recover_record(const std::vector<NodeReport>& reports) {
  Recovery out;
  const NodeReport* newest = nullptr;
  std::uint64_t highest_epoch = 0;
  for (const NodeReport& r : reports) {
    if (!r.record) {
      out.warnings.push_back(r.url + " did not answer (" + r.error + "): its record is not taken into account");
      continue;
    }
    if (newest && r.record->cluster_id != newest->record->cluster_id)
      return core::Error::invalid(r.url + " is in cluster " + r.record->cluster_id + ", " + newest->url +
                                  " in cluster " + newest->record->cluster_id + ": not one cluster");
    highest_epoch = std::max(highest_epoch, r.highest_epoch);
    if (!newest || std::tie(r.record->epoch, r.record->version) > std::tie(newest->record->epoch, newest->record->version))
      newest = &r;
  }
  if (!newest) return core::Error::unavailable("no node answered: nothing to recover from");
  if (newest->record->version == std::numeric_limits<std::uint64_t>::max())
    return core::Error::invalid("the newest record's version cannot grow");
  out.record = *newest->record;
  ++out.record.version;
  // A node refuses a record below the highest epoch it persisted; say so
  // now rather than leave the cluster wondering why nobody takes the record.
  if (highest_epoch > out.record.epoch)
    out.warnings.push_back("a node has seen epoch " + std::to_string(highest_epoch) +
                           ", above the newest record's epoch " + std::to_string(out.record.epoch) +
                           ": that node will refuse this record");
  return out;
}

}  // namespace failover::arbiter
