#include "arbiter/record.h"

#include <boost/json.hpp>
#include <limits>
#include <set>

namespace failover::arbiter {
namespace json = boost::json;

const Member* Record::member(const std::string& node) const {
  for (const Member& m : in_sync)
    if (m.node == node) return &m;
  return nullptr;
}

bool Record::has_member(const std::string& node, const std::string& storage_id) const {
  const Member* m = member(node);
  return m && m->storage_id == storage_id;
}

std::string to_json(const Record& record) {
  json::array members;
  for (const Member& m : record.in_sync) members.push_back(json::object{{"node", m.node}, {"storage_id", m.storage_id}});
  return json::serialize(json::object{{"cluster_id", record.cluster_id},
                                      {"version", record.version},
                                      {"epoch", record.epoch},
                                      {"primary", record.primary},
                                      {"in_sync", std::move(members)}});
}

namespace {

core::Result<std::string> string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return core::Error::invalid(std::string("record: \"") + std::string(key) + "\" must be a string");
  return std::string(v->get_string());
}

core::Result<std::uint64_t> number_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_uint64()) return v->get_uint64();
  if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return core::Error::invalid(std::string("record: \"") + std::string(key) + "\" must be a non-negative integer");
}

}  // namespace

core::Result<Record> record_from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return core::Error::invalid("record: not a JSON object");
  const json::object& o = v.get_object();
  Record r;
  auto cluster = string_field(o, "cluster_id");
  auto version = number_field(o, "version");
  auto epoch = number_field(o, "epoch");
  auto primary = string_field(o, "primary");
  if (!cluster) return cluster.error();
  if (!version) return version.error();
  if (!epoch) return epoch.error();
  if (!primary) return primary.error();
  r.cluster_id = *cluster;
  r.version = *version;
  r.epoch = *epoch;
  r.primary = *primary;
  const json::value* members = o.if_contains("in_sync");
  if (!members || !members->is_array()) return core::Error::invalid("record: \"in_sync\" must be an array");
  for (const json::value& m : members->get_array()) {
    if (!m.is_object()) return core::Error::invalid("record: an in_sync member must be an object");
    auto node = string_field(m.get_object(), "node");
    auto storage = string_field(m.get_object(), "storage_id");
    if (!node) return node.error();
    if (!storage) return storage.error();
    r.in_sync.push_back({*node, *storage});
  }
  return r;
}

core::Result<void> check_transition(const Record& current, const Record& proposed) {
  // current.version + 1 would wrap to 0 and accept a proposal of version 0.
  if (current.version == std::numeric_limits<std::uint64_t>::max())
    return core::Error::invalid("version cannot grow past " + std::to_string(current.version));
  if (proposed.version != current.version + 1)
    return core::Error::invalid("version must be " + std::to_string(current.version + 1));
  if (proposed.cluster_id != current.cluster_id) return core::Error::invalid("cluster_id cannot change");
  if (proposed.epoch < current.epoch) return core::Error::invalid("epoch cannot go down");
  if (proposed.primary != current.primary && proposed.epoch == current.epoch)
    return core::Error::invalid("a new primary needs a new epoch");
  if (proposed.primary.empty()) return core::Error::invalid("primary must be named");
  std::set<std::string> seen;
  for (const Member& m : proposed.in_sync) {
    if (m.node.empty() || m.storage_id.empty()) return core::Error::invalid("in_sync members need node and storage_id");
    if (!seen.insert(m.node).second) return core::Error::invalid("node " + m.node + " is twice in in_sync");
  }
  const Member* self = proposed.member(proposed.primary);
  if (!self) return core::Error::invalid("the primary must be in in_sync");
  if (proposed.epoch > current.epoch && current.epoch > 0 && !current.has_member(proposed.primary, self->storage_id))
    return core::Error::invalid(proposed.primary + " was not in in_sync with storage_id " + self->storage_id +
                                ": it may lack acknowledged writes");
  return core::ok();
}

}  // namespace failover::arbiter
