#include "dns/zone.h"

#include <algorithm>
#include <chrono>

#include "net/json_quote.h"

namespace failover::dns {
namespace {

namespace wire = net::dns;

// SOA timers (RFC 1912 2.2). Secondaries are not expected (every node
// checks the targets itself), so only `minimum`, the negative-caching TTL,
// matters much: it is the names' ttl, so a NXDOMAIN is cached no longer
// than an answer.
constexpr std::uint32_t kRefresh = 3600, kRetry = 600, kExpire = 86'400;

std::string wire_key(const wire::Name& name) {
  const wire::Name lower = name.lowered();
  return {reinterpret_cast<const char*>(lower.wire().data()), lower.wire().size()};
}

wire::Name name_or_root(std::string_view text) {
  return wire::Name::from_text(text).value_or(wire::Name{});
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& s : items) {
    if (out.size() > 1) out += ',';
    out += net::json_quote(s);
  }
  return out + "]";
}

NameAnswer build_answer(const NameHealth& n, const DnsConfig& config, std::uint32_t serial) {
  NameAnswer a;
  a.name = n.config.name;
  a.ttl = n.config.ttl ? n.config.ttl : config.ttl;
  a.panic = n.all_down && config.panic;
  const wire::Name owner = name_or_root(a.name);
  for (const Target* t : answered_targets(n, config.panic)) {
    std::vector<std::string>& ips = t->v6 ? a.ipsv6 : a.ips;
    if (std::find(ips.begin(), ips.end(), t->ip) != ips.end()) continue;  // one LB, several ports
    ips.push_back(t->ip);
    wire::Record r{owner, wire::kClassIN, a.ttl, {}};
    if (t->v6) {
      wire::Aaaa rr;
      std::copy(t->bytes.begin(), t->bytes.end(), rr.address.begin());
      r.data = rr;
      a.aaaa_ring.push_back(std::move(r));
    } else {
      wire::A rr;
      std::copy(t->bytes.begin(), t->bytes.begin() + 4, rr.address.begin());
      r.data = rr;
      a.a_ring.push_back(std::move(r));
    }
  }
  for (auto* ring : {&a.a_ring, &a.aaaa_ring})
    if (ring->size() > 1) ring->insert(ring->end(), ring->begin(), ring->end() - 1);
  a.has_v6_targets = std::any_of(n.targets.begin(), n.targets.end(), [](const TargetHealth& t) { return t.target.v6; });

  const wire::Name mname = name_or_root(config.nameserver.empty() ? "ns." + a.name : config.nameserver);
  const wire::Name rname = name_or_root(config.hostmaster.empty() ? "hostmaster." + a.name : config.hostmaster);
  a.soa = {owner, wire::kClassIN, a.ttl, wire::Soa{mname, rname, serial, kRefresh, kRetry, kExpire, a.ttl}};
  a.ns = {owner, wire::kClassIN, a.ttl, wire::Ns{mname}};

  a.httpdns_json = "{\"ips\":" + json_list(a.ips);
  if (a.has_v6_targets) a.httpdns_json += ",\"ipsv6\":" + json_list(a.ipsv6);
  a.httpdns_json += ",\"ttl\":" + std::to_string(a.ttl) + "}";
  return a;
}

TargetHealth new_target(Target t, const health::CheckConfig& check, core::TimePoint now) {
  // A new target starts up (unless the check says `initial: down`), as a new
  // LB server does: a restarted DNS server must not answer nothing while its
  // first probes run.
  return TargetHealth{std::move(t), health::Target(check, now)};
}

}  // namespace

const NameAnswer* ZoneSnapshot::find(std::string_view wire_lower) const {
  // Heterogeneous lookup needs C++20 transparent hashing that GCC 12's
  // unordered_map lacks; a thread's reused key keeps this allocation-free.
  thread_local std::string key;
  key.assign(wire_lower);
  auto it = names.find(key);
  return it == names.end() ? nullptr : &it->second;
}

const NameAnswer* ZoneSnapshot::find_enclosing(std::string_view wire_lower) const {
  // Drop the first label until a configured name or the root remains.
  while (wire_lower.size() > 1) {
    if (const NameAnswer* a = find(wire_lower)) return a;
    wire_lower.remove_prefix(1 + static_cast<unsigned char>(wire_lower.front()));
  }
  return nullptr;
}

bool ZoneSnapshot::is_empty_non_terminal(std::string_view wire_lower) const {
  if (empty_non_terminals.empty()) return false;
  thread_local std::string key;
  key.assign(wire_lower);
  return empty_non_terminals.contains(key);
}

const NameAnswer* ZoneSnapshot::find_text(std::string_view name) const {
  std::optional<wire::Name> n = wire::Name::from_text(name);
  if (!n || n->is_root()) return nullptr;
  const std::string key = wire_key(*n);
  return find(key);
}

std::string TargetHealth::reason(bool check_enabled) const {
  if (!check_enabled) return "no active check; always answered";
  return health.reason();
}

std::vector<const Target*> answered_targets(const NameHealth& n, bool panic_allowed) {
  std::vector<const Target*> out;
  for (const TargetHealth& t : n.targets)
    if (t.up()) out.push_back(&t.target);
  if (out.empty() && panic_allowed)
    for (const TargetHealth& t : n.targets) out.push_back(&t.target);
  return out;
}

Zone::Zone(const DnsConfig& config, core::TimePoint now, std::uint32_t serial)
    : config_(config), serial_(serial) {
  for (const DomainConfig& d : config_.domains) {
    NameHealth n{d, {}, false};
    for (const Target& t : d.targets) n.targets.push_back(new_target(t, d.check, now));
    names_.push_back(std::move(n));
  }
}

NameHealth* Zone::find(const std::string& name) {
  for (NameHealth& n : names_)
    if (n.config.name == name) return &n;
  return nullptr;
}

const TargetHealth* Zone::find_target(const std::string& name, const std::string& target_key) const {
  for (const NameHealth& n : names_) {
    if (n.config.name != name) continue;
    for (const TargetHealth& t : n.targets)
      if (t.target.key() == target_key) return &t;
  }
  return nullptr;
}

void Zone::update_all_down(NameHealth& n, Observed& o) {
  const bool before = n.all_down;
  n.all_down = !n.targets.empty() &&
               std::none_of(n.targets.begin(), n.targets.end(), [](const TargetHealth& t) { return t.up(); });
  o.all_down_started = !before && n.all_down;
  o.all_down_ended = before && !n.all_down;
}

Observed Zone::observe(const std::string& name, const std::string& target_key, const health::ProbeResult& r,
                       core::TimePoint now) {
  Observed o;
  NameHealth* n = find(name);
  if (!n) return o;
  auto t = std::find_if(n->targets.begin(), n->targets.end(),
                        [&](const TargetHealth& th) { return th.target.key() == target_key; });
  if (t == n->targets.end()) return o;
  o.change = t->health.observe(r, now);
  if (o.change == health::Change::kUp || o.change == health::Change::kDown) {
    o.streak = o.change == health::Change::kUp ? t->health.rise() : t->health.fall();
    update_all_down(*n, o);
    o.answer_changed = true;
    ++serial_;
  }
  return o;
}

Observed Zone::set_targets(const std::string& name, std::vector<Target> targets, core::TimePoint now) {
  Observed o;
  NameHealth* n = find(name);
  if (!n) return o;
  auto by_key = [](const Target& a, const Target& b) { return a.key() < b.key(); };
  std::sort(targets.begin(), targets.end(), by_key);
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());  // two instances on one address
  std::vector<Target> before;
  for (const TargetHealth& t : n->targets) before.push_back(t.target);
  std::sort(before.begin(), before.end(), by_key);
  if (targets == before) return o;
  std::vector<TargetHealth> next;
  for (Target& t : targets) {
    auto old = std::find_if(n->targets.begin(), n->targets.end(),
                            [&](const TargetHealth& th) { return th.target == t; });
    next.push_back(old != n->targets.end() ? std::move(*old) : new_target(std::move(t), n->config.check, now));
  }
  n->targets = std::move(next);
  update_all_down(*n, o);
  o.answer_changed = true;
  ++serial_;
  return o;
}

std::shared_ptr<const ZoneSnapshot> Zone::snapshot() const {
  auto s = std::make_shared<ZoneSnapshot>();
  s->serial = serial_;
  for (const NameHealth& n : names_) {
    NameAnswer a = build_answer(n, config_, serial_);
    s->names.emplace(wire_key(name_or_root(a.name)), std::move(a));
  }
  for (const auto& [key, answer] : s->names) {
    std::string_view up = key;
    up.remove_prefix(1 + static_cast<unsigned char>(up.front()));
    // Up from each name to the next configured one; if there is none, the
    // names above are not ours at all.
    std::vector<std::string> between;
    for (; up.size() > 1 && !s->names.contains(std::string(up)); up.remove_prefix(1 + static_cast<unsigned char>(up.front())))
      between.emplace_back(up);
    if (up.size() > 1) s->empty_non_terminals.insert(between.begin(), between.end());
  }
  return s;
}

}  // namespace failover::dns
