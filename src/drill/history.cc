#include "drill/history.h"

#include <algorithm>
#include <map>

namespace failover::drill {
namespace {

using Kind = Operation::Kind;
using Outcome = Operation::Outcome;

// One write and the reads that returned its value. The initial state of a
// key is a write at the beginning of time.
struct Cluster {
  std::string value;  // "(none)" for the initial state
  core::TimePoint min_end = core::TimePoint::max(), max_start = core::TimePoint::min();
  void add(const Operation& op) {
    min_end = std::min(min_end, op.end);
    max_start = std::max(max_start, op.start);
  }
  bool forward() const { return min_end < max_start; }
};

class KeyChecker {
 public:
  KeyChecker(std::string key, core::TimePoint t0, std::vector<Violation>& out)
      : key_(std::move(key)), t0_(t0), out_(out) {}

  void check(const std::vector<const Operation*>& ops) {
    std::map<std::string, const Operation*> writes;
    for (const Operation* op : ops)
      if (op->kind == Kind::kWrite && op->value) writes[*op->value] = op;

    std::map<std::string, Cluster> clusters;  // by value; "" key unused
    std::optional<Cluster> initial;
    for (const auto& [value, w] : writes) {
      if (w->outcome == Outcome::kOk) {
        Cluster& c = clusters[value];
        c.value = value;
        c.add(*w);
      }
    }
    for (const Operation* r : ops) {
      if (r->kind != Kind::kRead || r->outcome != Outcome::kOk) continue;
      if (!r->value) {
        if (!initial) {
          initial.emplace();
          initial->value = "(none)";
          initial->min_end = core::TimePoint::min();  // "written" before anything began
        }
        initial->add(*r);
        continue;
      }
      auto w = writes.find(*r->value);
      if (w == writes.end() || w->second->outcome == Outcome::kFailed) {
        report(Violation::Kind::kUnknownValue, "read " + describe(*r) + " returned '" + *r->value + "', which " +
                                                   (w == writes.end() ? "no write wrote" : "a failed write wrote"));
        continue;
      }
      if (r->end < w->second->start) {
        report(Violation::Kind::kReadBeforeWrite,
               "read " + describe(*r) + " returned '" + *r->value + "' before its write " + describe(*w->second) +
                   " began");
        continue;
      }
      Cluster& c = clusters[*r->value];
      if (c.value.empty()) {  // a write of unknown outcome, now known to have happened
        c.value = *r->value;
        c.add(*w->second);
      }
      c.add(*r);
    }

    std::vector<Cluster> all;
    for (auto& [v, c] : clusters) all.push_back(c);
    if (initial) all.push_back(*initial);
    std::vector<const Cluster*> forward, backward;
    for (const Cluster& c : all) (c.forward() ? forward : backward).push_back(&c);
    std::sort(forward.begin(), forward.end(),
              [](const Cluster* a, const Cluster* b) { return a->min_end < b->min_end; });
    // (1) Two values cannot both be certainly current at once.
    for (std::size_t i = 1; i < forward.size(); ++i) {
      const Cluster& a = *forward[i - 1];
      const Cluster& b = *forward[i];
      if (b.min_end < a.max_start)
        report(Violation::Kind::kStaleRead, "'" + a.value + "' was read until " + at(a.max_start) + " though '" +
                                                b.value + "' had taken its place by " + at(b.min_end));
    }
    // (2) A value wholly written and read while another was certainly
    // current: the other was read after it had been overwritten.
    for (const Cluster* b : backward) {
      auto after = std::upper_bound(forward.begin(), forward.end(), b->max_start,
                                    [](core::TimePoint t, const Cluster* f) { return t < f->min_end; });
      if (after == forward.begin()) continue;
      const Cluster& f = **std::prev(after);
      if (f.min_end < b->max_start && b->min_end < f.max_start)
        report(Violation::Kind::kStaleRead, "'" + f.value + "' was read at " + at(f.max_start) + " though '" +
                                                b->value + "' was written over it between " + at(b->max_start) +
                                                " and " + at(b->min_end));
    }
  }

 private:
  std::string at(core::TimePoint t) const {
    if (t == core::TimePoint::min()) return "the start";
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t - t0_).count()) + "ms";
  }
  std::string describe(const Operation& op) const {
    return (op.client.empty() ? "" : "by " + op.client + " ") + "[" + at(op.start) + ", " + at(op.end) + "]";
  }
  void report(Violation::Kind kind, std::string what) {
    out_.push_back(Violation{kind, key_, "key '" + key_ + "': " + std::move(what)});
  }

  std::string key_;
  core::TimePoint t0_;
  std::vector<Violation>& out_;
};

}  // namespace

std::vector<Violation> check_history(const std::vector<Operation>& history) {
  std::map<std::string, std::vector<const Operation*>> by_key;
  core::TimePoint t0 = core::TimePoint::max();
  for (const Operation& op : history) {
    by_key[op.key].push_back(&op);
    t0 = std::min(t0, op.start);
  }
  std::vector<Violation> out;
  for (const auto& [key, ops] : by_key) KeyChecker(key, t0, out).check(ops);
  return out;
}

const char* violation_name(Violation::Kind kind) {
  switch (kind) {
    case Violation::Kind::kStaleRead:
      return "stale_read";
    case Violation::Kind::kUnknownValue:
      return "unknown_value";
    case Violation::Kind::kReadBeforeWrite:
      return "read_before_write";
  }
  return "?";
}

}  // namespace failover::drill
