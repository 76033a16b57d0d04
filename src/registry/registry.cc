#include "registry/registry.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

namespace failover::registry {

using std::chrono::milliseconds;

namespace {

// 41 s per turn at the default 10 ms tick: the default lease (15 s) and
// removal (45 s later) are at most two turns away.
constexpr std::size_t kWheelSlots = 4096;
// Far beyond any sensible ttl, yet now + 4 x this cannot overflow the
// clock's nanoseconds.
constexpr milliseconds kMaxMaxTtl = std::chrono::hours(24 * 365);

}  // namespace

struct Registry::Entry {
  Instance instance;
  Service* service = nullptr;
  TimerWheel::Key key = 0;
  TimerWheel::Handle timer = TimerWheel::kNoHandle;
  // When `timer` fires. Invariant: never after the instance's next deadline
  // (lease_until while healthy, remove_at after), so a deadline is never
  // missed; a timer that fires before it simply re-arms (lazy re-arm).
  core::TimePoint armed_at;
};

struct Registry::Service {
  struct Watcher {
    WatchId id;
    std::uint64_t after;
    std::function<void()> wake;
  };
  std::string name;
  bool known = false;  // false: only watched so far, invisible to queries
  std::uint64_t index = 0;
  std::map<std::string, Entry, std::less<>> instances;  // sorted, as queries list them
  // O(1) lookup for heartbeats; the views point into `instances`' keys,
  // which std::map never moves.
  std::unordered_map<std::string_view, Entry*> by_id;
  std::vector<Watcher> watchers;
};

RegistryOptions Registry::sanitized(RegistryOptions options) {
  if (options.tick < milliseconds(1)) options.tick = milliseconds(10);
  options.min_ttl = std::clamp(options.min_ttl, milliseconds(1), kMaxMaxTtl);
  options.max_ttl = std::clamp(options.max_ttl, options.min_ttl, kMaxMaxTtl);
  options.deregister_after = std::clamp(options.deregister_after, milliseconds(0), kMaxMaxTtl);
  return options;
}

Registry::Registry(const core::Clock& clock, RegistryOptions options)
    : clock_(clock), options_(sanitized(options)), wheel_(clock.now(), options_.tick, kWheelSlots) {}

Registry::~Registry() = default;

milliseconds Registry::deregister_after(const InstanceSpec& spec) const {
  return options_.deregister_after > milliseconds(0) ? options_.deregister_after : 3 * spec.ttl;
}

InstanceSpec Registry::clamped(InstanceSpec spec) const {
  spec.ttl = std::clamp(spec.ttl, options_.min_ttl, options_.max_ttl);
  return spec;
}

Registry::Entry* Registry::find(const std::string& service, const std::string& id) {
  auto s = services_.find(service);
  if (s == services_.end()) return nullptr;
  auto e = s->second->by_id.find(id);
  return e == s->second->by_id.end() ? nullptr : e->second;
}

Registry::Service* Registry::admit(const std::string& name) {
  auto it = services_.find(name);
  Service* s = it == services_.end() ? nullptr : it->second.get();
  const bool known = s != nullptr && s->known;
  if (!known && known_services_ >= options_.max_services) return nullptr;
  if ((s ? s->instances.size() : 0) >= options_.max_instances_per_service) return nullptr;
  if (s == nullptr) {
    s = services_.emplace(name, std::make_unique<Service>()).first->second.get();
    s->name = name;
  }
  if (!known) {
    s->known = true;
    ++known_services_;
    // Watchers of a service that did not exist could not have seen any
    // index of it, whatever `after` they gave: its appearance is news.
    wake(*s, /*all=*/true);
  }
  return s;
}

Registry::Entry& Registry::insert(Service& service, const std::string& id, const InstanceSpec& spec,
                                  core::TimePoint lease_until) {
  auto it = service.instances.try_emplace(id).first;
  Entry& e = it->second;
  e.instance.id = id;
  e.instance.spec = spec;
  e.instance.healthy = lease_until > clock_.now();
  e.instance.lease_until = lease_until;
  e.instance.remove_at = lease_until + deregister_after(spec);
  e.service = &service;
  e.key = ++next_key_;
  service.by_id.emplace(it->first, &e);
  entries_.emplace(e.key, &e);
  arm(e);
  touch(service, &e);
  return e;
}

void Registry::erase(Service& service, Entry& entry) {
  wheel_.cancel(entry.timer);
  entries_.erase(entry.key);
  service.by_id.erase(entry.instance.id);
  // By iterator: erasing by entry.instance.id would read the key while
  // destroying it.
  service.instances.erase(service.instances.find(entry.instance.id));
}

void Registry::arm(Entry& e) {
  if (options_.mirror) return;  // the external store expires leases, not us
  const core::TimePoint next = e.instance.healthy ? e.instance.lease_until : e.instance.remove_at;
  if (e.timer != TimerWheel::kNoHandle && e.armed_at <= next) return;
  wheel_.cancel(e.timer);
  e.timer = wheel_.schedule(e.key, next);
  e.armed_at = next;
}

void Registry::on_timer(TimerWheel::Key key, core::TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;  // removal cancels its timer; nothing else to do
  Entry& e = *it->second;
  Service& s = *e.service;
  e.timer = TimerWheel::kNoHandle;
  if (e.instance.healthy && now >= e.instance.lease_until) {
    e.instance.healthy = false;
    ++counters_.expiries;
    touch(s, &e);
  }
  if (!e.instance.healthy && now >= e.instance.remove_at) {
    ++counters_.evictions;
    erase(s, e);
    touch(s, nullptr);
    return;
  }
  arm(e);  // early (heartbeats moved the deadline) or now waiting for removal
}

void Registry::touch(Service& service, Entry* entry) {
  service.index = ++index_;
  if (entry != nullptr) entry->instance.modify_index = service.index;
  wake(service, /*all=*/false);
}

void Registry::wake(Service& service, bool all) {
  if (service.watchers.empty()) return;
  std::vector<Service::Watcher> waiting;
  for (auto& w : service.watchers) {
    if (all || w.after < service.index) {
      watch_owner_.erase(w.id);
      wakes_.push_back(std::move(w.wake));
    } else {
      waiting.push_back(std::move(w));
    }
  }
  service.watchers = std::move(waiting);
}

void Registry::notify(const Change& change) {
  if (on_change) on_change(change);
}

// Callbacks run last, from a copy, so that one that calls back into the
// registry (query, watch again, even put) sees a consistent state and
// cannot invalidate the list being walked.
void Registry::run_wakes() {
  while (!wakes_.empty()) {
    auto due = std::move(wakes_);
    wakes_.clear();
    for (auto& w : due) {
      if (w) w();
    }
  }
}

Status Registry::put(const std::string& service, const std::string& id, const InstanceSpec& in) {
  const InstanceSpec spec = clamped(in);
  const core::TimePoint now = clock_.now();
  Status status = Status::kOk;
  if (Entry* e = find(service, id)) {
    Instance& inst = e->instance;
    const bool visible = !(inst.spec == spec) || !inst.healthy;
    inst.spec = spec;
    inst.healthy = true;
    inst.lease_until = now + spec.ttl;
    inst.remove_at = inst.lease_until + deregister_after(spec);
    arm(*e);
    if (visible) touch(*e->service, e);
  } else {
    Service* s = admit(service);
    if (s == nullptr) return Status::kTooMany;
    insert(*s, id, spec, now + spec.ttl);
    status = Status::kCreated;
  }
  ++counters_.registrations;
  notify({Change::Kind::kPut, service, id, spec, spec.ttl});
  run_wakes();
  return status;
}

Status Registry::heartbeat(const std::string& service, const std::string& id) {
  Entry* e = find(service, id);
  if (e == nullptr) return Status::kNotFound;
  Instance& inst = e->instance;
  inst.lease_until = clock_.now() + inst.spec.ttl;
  inst.remove_at = inst.lease_until + deregister_after(inst.spec);
  if (!inst.healthy) {
    inst.healthy = true;
    touch(*e->service, e);
  }
  // For a healthy instance the timer is due no later than the old lease,
  // which is no later than the new one, so arm() leaves the wheel alone.
  // Reviving one must re-arm: its timer waits for the old remove_at.
  arm(*e);
  ++counters_.heartbeats;
  notify({Change::Kind::kPut, service, id, inst.spec, inst.spec.ttl});
  run_wakes();
  return Status::kOk;
}

Status Registry::fail(const std::string& service, const std::string& id) {
  Entry* e = find(service, id);
  if (e == nullptr) return Status::kNotFound;
  end_lease(*e, clock_.now());
  notify({Change::Kind::kFail, service, id, e->instance.spec, milliseconds(0)});
  run_wakes();
  return Status::kOk;
}

void Registry::end_lease(Entry& e, core::TimePoint now) {
  Instance& inst = e.instance;
  inst.lease_until = now;
  inst.remove_at = now + deregister_after(inst.spec);
  if (inst.healthy) {
    inst.healthy = false;
    touch(*e.service, &e);
  }
  arm(e);
}

Status Registry::remove(const std::string& service, const std::string& id) {
  Entry* e = find(service, id);
  if (e == nullptr) return Status::kNotFound;
  Service& s = *e->service;
  erase(s, *e);
  touch(s, nullptr);
  ++counters_.removals;
  notify({Change::Kind::kRemove, service, id, {}, milliseconds(0)});
  run_wakes();
  return Status::kOk;
}

void Registry::apply(const Change& change) {
  const core::TimePoint now = clock_.now();
  Entry* e = find(change.service, change.id);
  if (change.kind == Change::Kind::kRemove) {
    if (e != nullptr) {
      Service& s = *e->service;
      erase(s, *e);
      touch(s, nullptr);
    }
    run_wakes();
    return;
  }
  if (change.kind == Change::Kind::kFail) {
    if (e != nullptr) end_lease(*e, now);
    run_wakes();
    return;
  }
  const InstanceSpec spec = clamped(change.spec);
  // A peer's lease cannot outlast its ttl; far in the past only means
  // "removed already" (and keeps now + lease_left from overflowing).
  const milliseconds lease_left =
      std::clamp(change.lease_left, -(deregister_after(spec) + milliseconds(1)), spec.ttl);
  const core::TimePoint lease_until = now + lease_left;
  if (e != nullptr) {
    Instance& inst = e->instance;
    bool visible = false;
    if (!(inst.spec == spec)) {
      inst.spec = spec;
      visible = true;
    }
    if (options_.mirror && (lease_until > now) != inst.healthy) {
      inst.healthy = lease_until > now;  // the store's word, not a merge
      visible = true;
    }
    if (lease_until > inst.lease_until) {  // never shorten: replays and crossings are harmless
      inst.lease_until = lease_until;
      if (!inst.healthy && lease_until > now) {
        inst.healthy = true;
        visible = true;
      }
    }
    inst.remove_at = inst.lease_until + deregister_after(inst.spec);
    arm(*e);
    if (visible) touch(*e->service, e);
  } else if (lease_until + deregister_after(spec) > now) {
    // Past its removal time it would only flash in and out. Over a limit
    // it is dropped: a peer's limits are its own, ours still hold.
    if (Service* s = admit(change.service)) insert(*s, change.id, spec, lease_until);
  }
  run_wakes();
}

std::vector<Change> Registry::dump() const {
  const core::TimePoint now = clock_.now();
  std::vector<Change> out;
  for (const auto& [name, s] : services_) {
    for (const auto& [id, e] : s->instances) {
      // floor: the receiver's copy of a lease never ends after ours.
      out.push_back({Change::Kind::kPut, name, id, e.instance.spec,
                     std::chrono::floor<milliseconds>(e.instance.lease_until - now)});
    }
  }
  return out;
}

void Registry::advance() {
  const core::TimePoint now = clock_.now();
  wheel_.advance(now, [&](TimerWheel::Key key) { on_timer(key, now); });
  run_wakes();
}

std::optional<ServiceView> Registry::query(const std::string& service, bool healthy_only) const {
  auto it = services_.find(service);
  if (it == services_.end() || !it->second->known) return std::nullopt;
  const Service& s = *it->second;
  ServiceView view;
  view.index = s.index;
  const std::size_t all = s.instances.size();
  std::size_t healthy = 0;
  for (const auto& [id, e] : s.instances) healthy += e.instance.healthy ? 1 : 0;
  view.healthy_ratio = all == 0 ? 1.0 : static_cast<double>(healthy) / static_cast<double>(all);
  // Too few healthy ones left to carry the load: list every instance, each
  // with its true flag, and let callers' own checks decide.
  view.protected_mode =
      options_.protect_threshold > 0 && all > 0 && view.healthy_ratio < options_.protect_threshold;
  const bool filter = healthy_only && !view.protected_mode;
  view.instances.reserve(filter ? healthy : all);
  for (const auto& [id, e] : s.instances) {
    if (!filter || e.instance.healthy) view.instances.push_back(&e.instance);
  }
  return view;
}

std::vector<std::pair<std::string, std::size_t>> Registry::services() const {
  std::vector<std::pair<std::string, std::size_t>> out;
  out.reserve(known_services_);
  for (const auto& [name, s] : services_) {
    if (s->known) out.emplace_back(name, s->instances.size());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Registry::WatchId Registry::watch(const std::string& service, std::uint64_t after,
                                  std::function<void()> wake) {
  auto it = services_.find(service);
  if (it != services_.end() && it->second->known && it->second->index > after) return 0;
  if (it == services_.end()) {
    // Not known yet: a placeholder holds the watchers until it appears.
    it = services_.emplace(service, std::make_unique<Service>()).first;
    it->second->name = service;
  }
  const WatchId id = ++next_watch_;
  it->second->watchers.push_back({id, after, std::move(wake)});
  watch_owner_.emplace(id, it->second.get());
  return id;
}

void Registry::unwatch(WatchId id) {
  auto it = watch_owner_.find(id);
  if (it == watch_owner_.end()) return;  // fired already, or never was
  Service& s = *it->second;
  watch_owner_.erase(it);
  std::erase_if(s.watchers, [id](const Service::Watcher& w) { return w.id == id; });
  // A placeholder nobody waits on any more would only take memory.
  if (!s.known && s.watchers.empty()) services_.erase(std::string(s.name));  // a copy: erase destroys s.name
}

}  // namespace failover::registry
