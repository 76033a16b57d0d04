#include "store/config.h"

#include <cmath>

#include "core/config_error.h"
#include "core/yaml_util.h"
#include "net/url.h"
#include "store/kv_request.h"

namespace failover::store {
namespace {

using core::YamlMap;
using core::YamlValue;
using std::chrono::milliseconds;

constexpr milliseconds kHour{3600 * 1000};

std::string address(const YamlValue& v) {
  std::string a = v.as_string();
  if (std::string problem = core::address_problem(a); !problem.empty()) v.fail("bad address \"" + a + "\": " + problem);
  return a;
}

void parse_heartbeat(const YamlValue& v, StoreConfig& c) {
  YamlMap m(v, {"interval", "timeout"});
  c.heartbeat_interval = m.duration_or("interval", c.heartbeat_interval, milliseconds(1), kHour);
  c.heartbeat_timeout = m.duration_or("timeout", c.heartbeat_timeout, milliseconds(1), kHour);
  if (c.heartbeat_timeout < 3 * c.heartbeat_interval)
    m.fail("timeout", "must be at least 3 x interval (" + std::to_string(3 * c.heartbeat_interval.count()) +
                          "ms), or one late beacon starts a failover");
}

void parse_arbiter(const YamlValue& v, StoreConfig& c) {
  YamlMap m(v, {"type", "address", "endpoints", "key", "timeout"});
  c.arbiter_type = m.string_or("type", "witness");
  if (c.arbiter_type == "witness") {
    c.arbiter_address = address(m.required("address"));
    if (m.has("endpoints") || m.has("key")) m.fail("type", "endpoints and key are for type: etcd");
  } else if (c.arbiter_type == "etcd") {
    if (m.has("address")) m.fail("address", "type: etcd takes endpoints: [http://host:port, ...], not address");
    const YamlValue endpoints = m.required("endpoints");
    for (const YamlValue& e : endpoints.as_list()) {
      const std::string url = e.as_string();
      if (auto parsed = net::parse_http_url(url); !parsed) e.fail(parsed.error().message);
      c.arbiter_endpoints.push_back(url);
    }
    if (c.arbiter_endpoints.empty()) endpoints.fail("needs at least one etcd endpoint");
    // One key per store cluster; two clusters on one key would each refuse
    // the other's cluster_id, so the default is safe, only not shareable.
    c.arbiter_key = "/failover/store/default";
    if (m.has("key")) {
      const YamlValue key = m.required("key");
      c.arbiter_key = key.as_string();
      if (c.arbiter_key.empty() || c.arbiter_key.front() != '/') key.fail("must be a key such as /failover/store/NAME");
    }
  } else {
    m.fail("type", "must be witness or etcd, not '" + c.arbiter_type + "'");
  }
  c.arbiter_timeout = m.duration_or("timeout", c.arbiter_timeout, milliseconds(1), kHour);
}

void parse_log(const YamlValue& v, StoreConfig& c) {
  YamlMap m(v, {"segment_bytes", "keep_entries"});
  c.log_segment_bytes = m.size_or("segment_bytes", c.log_segment_bytes, 4096, 1ull << 40);
  c.log_keep_entries = m.int_or<std::uint64_t>("keep_entries", c.log_keep_entries, 1, 1ull << 40);
}

StoreConfig parse_store(const YamlValue& v) {
  YamlMap m(v, {"node", "listen", "peer_listen", "data_dir", "peers", "arbiter", "replication", "heartbeat",
                "lease", "strict", "preempt", "preempt_hold_down", "notify", "write_timeout", "min_free_disk", "max_upload_bytes", "vip", "log"});
  StoreConfig c;
  c.source = v.file;
  c.node = m.required("node").as_string();
  if (c.node.empty() || c.node.size() > 64) m.fail("node", "must be a name of 1 to 64 characters");
  if (m.has("listen")) c.listen = address(m.required("listen"));
  if (m.has("peer_listen")) c.peer_listen = address(m.required("peer_listen"));
  c.data_dir = m.required("data_dir").as_string();
  if (c.data_dir.empty()) m.fail("data_dir", "must not be empty");
  const YamlValue peers = m.required("peers");
  for (const auto& [name, pv] : peers.as_entries()) {
    if (name == c.node) pv.fail("a peer cannot have this node's own name");
    YamlMap p(pv, {"listen", "peer_listen"});
    c.peers[name] = PeerConfig{address(p.required("listen")), address(p.required("peer_listen"))};
  }
  if (c.peers.empty()) peers.fail("needs at least one peer");
  parse_arbiter(m.required("arbiter"), c);
  const std::string replication = m.string_or("replication", "sync");
  if (replication == "async")
    m.fail("replication", "async replication is not available: a write is acknowledged only once every in-sync "
                          "node has it (sync)");
  if (replication != "sync") m.fail("replication", "must be sync, not '" + replication + "'");
  if (m.has("heartbeat")) parse_heartbeat(m.required("heartbeat"), c);
  c.lease = m.duration_or("lease", c.lease, milliseconds(1), kHour);
  const milliseconds safe = max_safe_lease(c.heartbeat_timeout);
  if (c.lease > safe)
    m.fail("lease", std::to_string(c.lease.count()) + "ms is not safely shorter than heartbeat.timeout " +
                        std::to_string(c.heartbeat_timeout.count()) + "ms: with clocks drifting " +
                        std::to_string(static_cast<int>(kMaxDrift * 100)) + "% and " +
                        std::to_string(kLeaseSlack.count()) + "ms of slack it must be at most " +
                        std::to_string(safe.count()) + "ms");
  if (c.lease < 2 * c.heartbeat_interval)
    m.fail("lease", "must be at least 2 x heartbeat.interval (" + std::to_string(2 * c.heartbeat_interval.count()) +
                        "ms), or one late beacon lapses it");
  c.strict = m.bool_or("strict", false);
  c.preempt = m.bool_or("preempt", false);
  // At least a second: shorter, a node back for a moment would take the role.
  c.preempt_hold_down = m.duration_or("preempt_hold_down", c.preempt_hold_down, milliseconds(1000), kHour);
  if (m.has("notify")) {
    YamlMap n(m.required("notify"), {"primary", "backup", "fenced"});
    for (const char* role : {"primary", "backup", "fenced"}) {
      if (!n.has(role)) continue;
      const YamlValue cmd = n.required(role);
      if (cmd.as_string().empty()) cmd.fail("must be a command");
      c.notify[role] = cmd.as_string();
    }
  }
  c.write_timeout = m.duration_or("write_timeout", c.write_timeout, milliseconds(1), kHour);
  c.min_free_disk = m.size_or("min_free_disk", c.min_free_disk, 0, 1ull << 50);
  // At least one value of the largest size, or that value could never be written.
  c.max_upload_bytes = m.size_or("max_upload_bytes", c.max_upload_bytes, kMaxHttpValueBytes, 1ull << 40);
  if (m.has("vip")) {
    YamlMap vip(m.required("vip"), {"address", "interface"});
    const YamlValue address = vip.required("address");
    std::optional<VipConfig> parsed = parse_vip_address(address.as_string());
    if (!parsed) address.fail("\"" + address.as_string() + "\" is not an IPv4 address with its prefix length (10.0.0.100/24)");
    const YamlValue interface = vip.required("interface");
    if (!valid_interface_name(interface.as_string()))
      interface.fail("\"" + interface.as_string() + "\" is not an interface name (1 to 15 of A-Z a-z 0-9 _ . -)");
    parsed->interface = interface.as_string();
    c.vip = std::move(*parsed);
  }
  if (m.has("log")) parse_log(m.required("log"), c);
  return c;
}

}  // namespace

milliseconds max_safe_lease(milliseconds timeout) {
  const double safe = static_cast<double>(timeout.count()) * (1 - kMaxDrift) / (1 + kMaxDrift) -
                      static_cast<double>(kLeaseSlack.count());
  return milliseconds(static_cast<long long>(std::floor(std::max(0.0, safe))));
}

StoreConfig parse_store_config(const std::string& yaml_text, const std::string& file_name) {
  return core::parse_section(yaml_text, file_name, "store", parse_store);
}

StoreConfig load_store_config(const std::string& path) {
  return parse_store_config(core::read_config_file(path), path);
}

}  // namespace failover::store
