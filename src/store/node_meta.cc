#include "store/node_meta.h"

#include <boost/json.hpp>
#include <random>

namespace failover::store {
namespace {

core::Result<NodeMeta> parse_meta(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(text, ec);
  const auto* o = json.if_object();
  if (ec || o == nullptr) return core::Error::invalid("not a JSON object");
  NodeMeta meta;
  const auto* id = o->if_contains("storage_id");
  if (id == nullptr || !id->is_string() || id->get_string().empty()) return core::Error::invalid("no storage_id");
  meta.storage_id = id->get_string();
  if (const auto* cluster = o->if_contains("cluster_id")) {
    if (!cluster->is_string()) return core::Error::invalid("cluster_id is not a string");
    meta.cluster_id = cluster->get_string();
  }
  if (const auto* epoch = o->if_contains("highest_epoch")) {
    boost::system::error_code conv;
    meta.highest_epoch = epoch->is_number() ? epoch->to_number<uint64_t>(conv) : 0;
    if (!epoch->is_number() || conv) return core::Error::invalid("highest_epoch is not an unsigned integer");
  }
  return meta;
}

}  // namespace

std::string new_storage_id() {
  std::random_device random;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 4; ++i) {
    const uint32_t word = random();
    for (int nibble = 7; nibble >= 0; --nibble) id += kHex[(word >> (4 * nibble)) & 0xF];
  }
  return id;
}

core::Result<NodeMeta> load_or_create(FileSystem& fs, const Path& data_dir) {
  const Path path = data_dir / kMetaFile;
  if (fs.exists(path)) {
    auto text = fs.read_file(path);
    if (!text) return text.error();
    auto meta = parse_meta(*text);
    if (!meta) return core::Error::invalid(path.string() + ": " + meta.error().message);
    return meta;
  }
  if (fs.exists(data_dir)) {
    auto names = fs.list_dir(data_dir);
    if (!names) return names.error();
    for (const std::string& name : *names) {
      // A .tmp is a meta.json whose first save a crash interrupted.
      if (!name.ends_with(".tmp")) {
        return core::Error::invalid(data_dir.string() + " holds " + name +
                                    " but no meta.json: refusing to give old data a new identity");
      }
    }
  }
  if (auto r = fs.create_dirs(data_dir); !r) return r.error();
  NodeMeta meta{new_storage_id(), "", 0};
  if (auto r = save(fs, data_dir, meta); !r) return r.error();
  return meta;
}

core::Result<void> save(FileSystem& fs, const Path& data_dir, const NodeMeta& meta) {
  boost::json::object o;
  o["storage_id"] = meta.storage_id;
  o["cluster_id"] = meta.cluster_id;
  o["highest_epoch"] = meta.highest_epoch;
  return write_file_atomically(fs, data_dir / kMetaFile, boost::json::serialize(o) + "\n");
}

}  // namespace failover::store
