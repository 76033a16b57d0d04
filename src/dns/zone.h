#pragma once
// The names `failover dns` answers for and the health of the load balancers
// behind them. `Zone` is the state machine, owned by the control thread: it
// takes probe results and target lists (from the config or a registry) and
// says when the answers changed. No I/O. What the responders read is a
// `ZoneSnapshot`, built by the control thread and never changed afterwards,
// so the UDP threads read it without a lock.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/time.h"
#include "dns/config.h"
#include "health/probe_result.h"
#include "health/target.h"
#include "net/dns_codec.h"

namespace failover::dns {

// What one name answers now: only healthy targets, or all of them in panic.
struct NameAnswer {
  std::string name;                      // "www.example.com"
  std::uint32_t ttl = 0;                 // seconds
  bool panic = false;                    // no target is healthy and `panic: true`: answering all of them
  std::vector<std::string> ips, ipsv6;   // the answered addresses, in target order, no duplicates
  // A and AAAA records, the list written twice in a row: the responder turns
  // the answer round by taking n records from a rotating offset, with no copy.
  std::vector<net::dns::Record> a_ring, aaaa_ring;
  net::dns::Record soa, ns;
  std::string httpdns_json;              // {"ips":[...],"ttl":60} (+ "ipsv6" when there are v6 targets)
  bool has_v6_targets = false;

  std::span<const net::dns::Record> a(unsigned rotation) const { return ring(a_ring, ips.size(), rotation); }
  std::span<const net::dns::Record> aaaa(unsigned rotation) const { return ring(aaaa_ring, ipsv6.size(), rotation); }

 private:
  static std::span<const net::dns::Record> ring(const std::vector<net::dns::Record>& r, std::size_t n,
                                                unsigned rotation) {
    if (n == 0) return {};
    return {r.data() + rotation % n, n};
  }
};

struct ZoneSnapshot {
  std::uint32_t serial = 0;  // the SOA serial: one more for every change of an answer
  // By the name's lower-case wire form (net::dns::Name::lowered().wire()).
  std::unordered_map<std::string, NameAnswer> names;
  // Names between two configured ones ("b.x" when "x" and "a.b.x" are
  // configured): they exist without records of their own, so they get
  // NODATA, not NXDOMAIN (RFC 8020: NXDOMAIN would deny "a.b.x" too).
  std::unordered_set<std::string> empty_non_terminals;

  bool is_empty_non_terminal(std::string_view wire_lower) const;

  // The name `wire_lower` itself, or nothing.
  const NameAnswer* find(std::string_view wire_lower) const;
  // The configured name that is `wire_lower` or closest above it ("a.www.x"
  // finds "www.x"), or nothing when none is.
  const NameAnswer* find_enclosing(std::string_view wire_lower) const;
  // By text as in config and HTTPDNS ("WWW.example.com." works too).
  const NameAnswer* find_text(std::string_view name) const;
};

// One target of one name, as the control thread keeps it.
struct TargetHealth {
  Target target;
  health::Target health;

  bool up() const { return health.up(); }
  // Why it is in its state, for /status: "active check failed 3 times in a
  // row (last: refused); up again after 2 passing checks (0 so far)".
  std::string reason(bool check_enabled) const;
};

struct NameHealth {
  DomainConfig config;
  std::vector<TargetHealth> targets;  // config targets, and the registry's instances
  bool all_down = false;              // it has targets and none is up: panic when allowed
};

// What a probe result or a new target list did, for the log.
struct Observed {
  bool answer_changed = false;
  health::Change change = health::Change::kNone;
  int streak = 0;  // on kUp/kDown: the results in a row that made it (rise or fall)
  bool all_down_started = false, all_down_ended = false;
};

class Zone {
 public:
  // `serial` is the first SOA serial: the caller starts it from the wall
  // clock, so serials grow across restarts (RFC 1912 2.2).
  Zone(const DnsConfig& config, core::TimePoint now, std::uint32_t serial);

  // Takes the result of a probe of `target_key` ("ip:port") of `name`.
  // Unknown names or targets (removed meanwhile) are ignored.
  Observed observe(const std::string& name, const std::string& target_key, const health::ProbeResult& r,
                   core::TimePoint now);

  // Replaces the targets of `name` (a registry's instances); order and
  // duplicates do not matter. Targets that stay keep their health; new ones
  // start up, as a new LB server does.
  Observed set_targets(const std::string& name, std::vector<Target> targets, core::TimePoint now);

  // The answers now; a new object each call (the caller publishes it).
  std::shared_ptr<const ZoneSnapshot> snapshot() const;

  const std::vector<NameHealth>& names() const { return names_; }
  // The target `target_key` of `name`, or nullptr; valid until the next
  // set_targets of that name.
  const TargetHealth* find_target(const std::string& name, const std::string& target_key) const;
  const DnsConfig& config() const { return config_; }
  std::uint32_t serial() const { return serial_; }

 private:
  NameHealth* find(const std::string& name);
  // Recomputes all_down into `o`.
  void update_all_down(NameHealth& n, Observed& o);

  DnsConfig config_;
  std::vector<NameHealth> names_;
  std::uint32_t serial_;
};

// The targets a name answers now: the healthy ones, or all of them in panic
// (when `panic` is on), or none. In target order.
std::vector<const Target*> answered_targets(const NameHealth& n, bool panic_allowed);

}  // namespace failover::dns
