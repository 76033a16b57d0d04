#pragma once
// The registry's state: services, their instances and leases, as one
// single-threaded state machine driven by a core::Clock. No I/O here: the
// HTTP API (api.cc), replication and the etcd mirror call into it, and tests
// drive it with a ManualClock.
//
// Lease rule: an instance is healthy while heartbeats arrive within its ttl;
// past lease_until it turns unhealthy, and past remove_at (lease_until +
// deregister_after) it is removed. A heartbeat is O(1): it moves lease_until
// and nothing else; the timer wheel entry, when it fires early, re-arms
// itself for the new deadline (lazy re-arm).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "registry/timer_wheel.h"

namespace failover::registry {

// What a client registers. `meta` is a JSON object, kept as its serialized
// text so the registry never re-encodes it.
struct InstanceSpec {
  std::string address;                 // IP or host name
  int port = 0;                        // 1..65535
  std::chrono::milliseconds ttl{15'000};
  std::string meta = "{}";

  bool operator==(const InstanceSpec&) const = default;
};

struct Instance {
  std::string id;
  InstanceSpec spec;
  bool healthy = true;
  core::TimePoint lease_until;         // heartbeat deadline
  core::TimePoint remove_at;           // lease_until + deregister_after
  std::uint64_t modify_index = 0;      // the index at its last visible change
};

struct RegistryOptions {
  // Removed this long after the lease ran out; 0 means 3 x the instance ttl.
  std::chrono::milliseconds deregister_after{0};
  // Below this healthy share, queries return every instance (0: never).
  double protect_threshold = 0.0;
  std::chrono::milliseconds min_ttl{100};
  std::chrono::milliseconds max_ttl{24 * 3600 * 1000};
  std::size_t max_services = 10'000;
  std::size_t max_instances_per_service = 10'000;
  std::chrono::milliseconds tick{10};  // timer wheel resolution
  // A mirror of an external store (the etcd backend): leases never run out
  // here, health and removal come only from apply(), which then sets the
  // state it is given instead of merging (etcd is the one truth).
  bool mirror = false;
};

// kUnavailable: the backend (etcd) could not be reached; Registry itself
// never returns it.
enum class Status { kOk, kCreated, kNotFound, kTooMany, kUnavailable };

// A query's answer. Pointers stay valid until the registry is next changed.
struct ServiceView {
  std::uint64_t index = 0;             // changes whenever the service visibly changes
  bool protected_mode = false;         // healthy share under protect_threshold: every instance listed
  double healthy_ratio = 1.0;          // healthy / all (1.0 when there are none)
  std::vector<const Instance*> instances;  // sorted by id
};

// One change, as replication and the etcd mirror carry them.
struct Change {
  // kFail: a check failed (the agent said so); the lease ends now.
  enum class Kind { kPut, kRemove, kFail } kind = Kind::kPut;
  std::string service;
  std::string id;
  InstanceSpec spec;                   // kPut only
  std::chrono::milliseconds lease_left{0};  // kPut only: time to lease_until (<= 0: unhealthy)
};

class Registry {
 public:
  Registry(const core::Clock& clock, RegistryOptions options);
  ~Registry();

  // Registers or replaces `id`, renewing its lease. kCreated when new,
  // kTooMany over a limit. The caller validates the ttl against
  // options.min_ttl/max_ttl and answers 400; put() only clamps it into that
  // range (as stored, so queries and peers see the ttl actually applied),
  // since a zero or huge ttl would expire at once or overflow the clock.
  Status put(const std::string& service, const std::string& id, const InstanceSpec& spec);
  // Renews the lease; an unhealthy instance turns healthy again (the only
  // case that touches the timer wheel). kNotFound when unknown.
  Status heartbeat(const std::string& service, const std::string& id);
  Status remove(const std::string& service, const std::string& id);
  // A failed check reported for the instance (failover agent): its lease
  // ends now, so it turns unhealthy at once instead of a ttl later, and is
  // removed deregister_after from now unless heartbeats revive it.
  Status fail(const std::string& service, const std::string& id);

  // Applies a change from a peer: the lease it carries wins only when it
  // ends later than ours (merge rule), so replays and crossing messages
  // never shorten a lease. A differing spec replaces ours. An unknown
  // instance is inserted (unhealthy when lease_left <= 0) unless it would
  // already be past its removal time, or over a limit. Never calls
  // on_change, so peers do not echo each other's changes.
  void apply(const Change& change);
  // Every instance as a kPut change (for a peer that fills itself).
  std::vector<Change> dump() const;

  // Runs expiries and removals due by clock.now(). Call at least every tick.
  void advance();

  // healthy_only: leave unhealthy instances out (unless protected_mode).
  std::optional<ServiceView> query(const std::string& service, bool healthy_only = true) const;
  // name -> number of instances, sorted by name.
  std::vector<std::pair<std::string, std::size_t>> services() const;
  std::uint64_t index() const { return index_; }  // the last index handed out

  // Calls `wake` once, later (from put/heartbeat/remove/apply/advance),
  // when `service`'s index passes `after`. Never for other services.
  // Returns 0 and does not call `wake` if it has already passed: the caller
  // answers at once. The id lets a caller that gives up (its wait ended)
  // cancel. A service not known yet may be watched: its first appearance
  // wakes the watch. unwatch() of a fired or unknown id does nothing.
  // Indexes are per node: an `after` above index() (from another peer, or
  // from before a restart) waits until this node's index passes it, so the
  // caller may prefer to answer such a query at once.
  using WatchId = std::uint64_t;
  WatchId watch(const std::string& service, std::uint64_t after, std::function<void()> wake);
  void unwatch(WatchId id);

  // Told of every local change (put, heartbeat, remove; not apply()):
  // replication sends them on. Heartbeats come as kPut with a fresh lease.
  std::function<void(const Change&)> on_change;

  // registrations, heartbeats, removals: successful local calls (not
  // apply()); expiries: instances turned unhealthy by advance(); evictions:
  // instances removed by advance().
  struct Counters {
    std::uint64_t registrations = 0, heartbeats = 0, removals = 0, expiries = 0, evictions = 0;
  };
  const Counters& counters() const { return counters_; }

  // The lease timers, for tests and metrics (size() is one per instance).
  const TimerWheel& timer_wheel() const { return wheel_; }

 private:
  struct Service;
  struct Entry;
  static RegistryOptions sanitized(RegistryOptions options);
  Service* admit(const std::string& name);
  Entry* find(const std::string& service, const std::string& id);
  std::chrono::milliseconds deregister_after(const InstanceSpec& spec) const;
  InstanceSpec clamped(InstanceSpec spec) const;
  Entry& insert(Service& service, const std::string& id, const InstanceSpec& spec,
                core::TimePoint lease_until);
  void erase(Service& service, Entry& entry);
  void arm(Entry& entry);
  void end_lease(Entry& entry, core::TimePoint now);  // unhealthy now, removal deregister_after later
  void on_timer(TimerWheel::Key key, core::TimePoint now);
  void touch(Service& service, Entry* entry);
  void wake(Service& service, bool all);
  void notify(const Change& change);
  void run_wakes();

  // services_ holds every service that was ever put (known) plus, unknown,
  // those only watched so far; each owns its instances, index and watchers.
  const core::Clock& clock_;
  RegistryOptions options_;
  std::uint64_t index_ = 0;
  Counters counters_;
  std::unordered_map<std::string, std::unique_ptr<Service>> services_;
  std::size_t known_services_ = 0;
  TimerWheel wheel_;
  std::unordered_map<TimerWheel::Key, Entry*> entries_;  // wheel key -> instance
  TimerWheel::Key next_key_ = 0;
  std::unordered_map<WatchId, Service*> watch_owner_;
  WatchId next_watch_ = 0;
  std::vector<std::function<void()>> wakes_;  // due, run once the state is consistent
};

}  // namespace failover::registry
