#include "drill/drill_result.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <map>

namespace failover::drill {
namespace json = boost::json;

namespace {

constexpr Millis kDay{86'400'000};
constexpr Millis kFiveNinesPerDay{864};

std::string ms_text(const std::optional<Millis>& v) { return v ? std::to_string(v->count()) + " ms" : "-"; }

json::value ms_json(const std::optional<Millis>& v) { return v ? json::value(v->count()) : json::value(nullptr); }

std::string fault_name(const FaultResult& f) {
  std::string name = step_action(f.step) + " " + f.component;
  if (f.step.target == kPrimaryTarget) name += " (primary)";
  return name;
}

std::string bound_text(const std::optional<Millis>& v) { return v ? "<=" + std::to_string(v->count()) : "-"; }

}  // namespace

FaultRow fault_row(const FaultResult& f) {
  return FaultRow{.fault = fault_name(f),
                  .watched_by = f.watched_by,
                  .detected = ms_text(f.detected),
                  .detect_bound = bound_text(f.bounds.detect),
                  .failed_over = ms_text(f.failed_over),
                  .failed_back = ms_text(f.failed_back),
                  .failback_bound = bound_text(f.bounds.failback),
                  .reads_failed = std::to_string(f.reads_failed),
                  .writes_failed = std::to_string(f.writes_failed),
                  .outage = std::to_string(f.outage.count()) + " ms",
                  .over_bound = !f.detected_in_bound() || !f.failed_back_in_bound()};
}

Millis DrillResult::outage() const {
  Millis total{0};
  for (const FaultResult& f : faults) total += f.outage;
  return total;
}

double DrillResult::availability() const {
  if (faults.empty() || duration.count() <= 0) return 1.0;
  const double mtbf = static_cast<double>(duration.count()) / static_cast<double>(faults.size());
  const double mttr = static_cast<double>(outage().count()) / static_cast<double>(faults.size());
  return mtbf / (mtbf + mttr);
}

Millis DrillResult::outage_per_day() const {
  if (duration.count() <= 0) return Millis{0};
  return Millis(outage().count() * kDay.count() / duration.count());
}

std::uint64_t count_lost_writes(const std::vector<Operation>& history) {
  std::map<std::string, const Operation*> final_reads;
  std::map<std::string, const Operation*> writes_by_value;  // values are unique per write
  for (const Operation& op : history) {
    if (op.kind == Operation::Kind::kRead && op.client == "final") final_reads[op.key] = &op;
    if (op.kind == Operation::Kind::kWrite && op.value) writes_by_value[op.key + '\n' + *op.value] = &op;
  }
  std::uint64_t lost = 0;
  for (const Operation& w : history) {
    if (w.kind != Operation::Kind::kWrite || w.outcome != Operation::Outcome::kOk) continue;
    const auto f = final_reads.find(w.key);
    if (f == final_reads.end() || f->second->start < w.end) continue;  // no final read after it
    if (!f->second->value) {
      ++lost;  // acknowledged, and the key is gone
      continue;
    }
    const auto read_from = writes_by_value.find(w.key + '\n' + *f->second->value);
    // The final value's write was over before this one began: this one was
    // certainly later, and it is not there.
    if (read_from != writes_by_value.end() && read_from->second->end < w.start) ++lost;
  }
  return lost;
}

Millis failed_time(const std::vector<FailedRequest>& failures, core::TimePoint from, core::TimePoint to) {
  std::vector<std::pair<core::TimePoint, core::TimePoint>> spans;
  for (const FailedRequest& f : failures) {
    const auto a = std::max(f.start, from), b = std::min(f.at, to);
    if (a < b) spans.emplace_back(a, b);
  }
  std::sort(spans.begin(), spans.end());
  core::Duration total{0};
  core::TimePoint end = from;
  for (const auto& [a, b] : spans) {
    const auto start = std::max(a, end);
    if (b > start) total += std::chrono::duration_cast<core::Duration>(b - start);
    end = std::max(end, b);
  }
  return std::chrono::duration_cast<Millis>(total);
}

std::string drill_table(const DrillResult& r) {
  std::string out;
  char line[512];
  int name_width = 26;  // the longest fault name, at least
  for (const FaultResult& f : r.faults) name_width = std::max(name_width, static_cast<int>(fault_name(f).size()));
  std::snprintf(line, sizeof line, "%-*s %-18s %9s %9s %11s %9s %11s %6s %6s %8s\n", name_width, "fault", "watched by",
                "detected", "bound", "failed over", "failback", "bound", "reads", "writes", "outage");
  out += line;
  std::snprintf(line, sizeof line, "%-*s %-18s %9s %9s %11s %9s %11s %6s %6s %8s\n", name_width, "", "", "", "", "", "",
                "", "failed", "failed", "");
  out += line;
  for (const FaultResult& f : r.faults) {
    const FaultRow row = fault_row(f);
    std::snprintf(line, sizeof line, "%-*s %-18s %9s %9s %11s %9s %11s %6s %6s %8s%s\n", name_width,
                  row.fault.substr(0, 200).c_str(), row.watched_by.substr(0, 18).c_str(), row.detected.c_str(),
                  row.detect_bound.c_str(), row.failed_over.c_str(), row.failed_back.c_str(),
                  row.failback_bound.c_str(), row.reads_failed.c_str(), row.writes_failed.c_str(), row.outage.c_str(),
                  row.over_bound ? "  OVER BOUND" : "");
    out += line;
    if (!f.note.empty()) out += "    " + f.note + "\n";
  }
  std::snprintf(line, sizeof line,
                "\nrequests   %llu reads, %llu writes in %.1f s by %d clients; failed: %llu reads, %llu writes; "
                "%llu needed another try\n",
                static_cast<unsigned long long>(r.reads), static_cast<unsigned long long>(r.writes),
                static_cast<double>(r.duration.count()) / 1000.0, r.clients,
                static_cast<unsigned long long>(r.reads_failed), static_cast<unsigned long long>(r.writes_failed),
                static_cast<unsigned long long>(r.retried));
  out += line;
  std::snprintf(line, sizeof line, "latency    p50 %lld ms, p99 %lld ms, max %lld ms (a request's every try)\n",
                static_cast<long long>(r.latency_p50.count()), static_cast<long long>(r.latency_p99.count()),
                static_cast<long long>(r.latency_max.count()));
  out += line;
  std::snprintf(line, sizeof line, "history    %zu operations checked: %llu acknowledged writes lost, %zu stale or impossible reads\n",
                r.operations, static_cast<unsigned long long>(r.lost_writes), r.violations.size());
  out += line;
  std::snprintf(line, sizeof line,
                "SLA        %.6f %% = MTBF/(MTBF+MTTR) with %zu faults; clients saw %lld ms of failure, "
                "%lld ms a day at this rate (five nines allow 864)\n",
                r.availability() * 100.0, r.faults.size(), static_cast<long long>(r.outage().count()),
                static_cast<long long>(r.outage_per_day().count()));
  out += line;
  for (const std::string& f : r.failures) out += "  failed: " + f + "\n";
  for (const Violation& v : r.violations) out += std::string("  ") + violation_name(v.kind) + ": " + v.what + "\n";
  out += r.passed() ? "RESULT: PASS - no request failed, no write lost, no stale read\n"
                    : "RESULT: FAIL\n";
  return out;
}

std::string drill_json(const DrillResult& r) {
  json::array faults;
  for (const FaultResult& f : r.faults) {
    faults.push_back(json::object{{"fault", fault_name(f)},
                                  {"action", action_name(f.step.action)},
                                  {"link", f.step.action == FaultAction::kLink ? json::value(to_string(f.step.link))
                                                                               : json::value(nullptr)},
                                  {"component", f.component},
                                  {"kind", kind_name(f.kind)},
                                  {"watched_by", f.watched_by},
                                  {"at_ms", f.at.count()},
                                  {"detected_ms", ms_json(f.detected)},
                                  {"detect_bound_ms", ms_json(f.bounds.detect)},
                                  {"failed_over_ms", ms_json(f.failed_over)},
                                  {"restored_ms", ms_json(f.restored)},
                                  {"failed_back_ms", ms_json(f.failed_back)},
                                  {"failback_bound_ms", ms_json(f.bounds.failback)},
                                  {"within_bounds", f.detected_in_bound() && f.failed_back_in_bound()},
                                  {"reads_failed", f.reads_failed},
                                  {"writes_failed", f.writes_failed},
                                  {"outage_ms", f.outage.count()},
                                  {"note", f.note}});
  }
  json::array timeline;
  for (std::size_t s = 0; s < r.timeline.size(); ++s) {
    const LoadSecond& t = r.timeline[s];
    timeline.push_back(json::object{{"second", s},
                                    {"reads_ok", t.reads_ok},
                                    {"reads_failed", t.reads_failed},
                                    {"writes_ok", t.writes_ok},
                                    {"writes_failed", t.writes_failed}});
  }
  json::array events;
  for (const StackEvent& e : r.events)
    events.push_back(json::object{{"t_ms", e.at.count()}, {"component", e.component}, {"event", e.what}});
  json::array violations;
  for (const Violation& v : r.violations)
    violations.push_back(json::object{{"kind", violation_name(v.kind)}, {"key", v.key}, {"what", v.what}});
  const json::object root{
      {"cluster", r.cluster},
      {"seed", r.seed},
      {"clients", r.clients},
      {"duration_ms", r.duration.count()},
      {"requests", {{"reads", r.reads}, {"writes", r.writes}, {"reads_failed", r.reads_failed},
                    {"writes_failed", r.writes_failed}, {"retried", r.retried}, {"latency_p50_ms", r.latency_p50.count()},
                    {"latency_p99_ms", r.latency_p99.count()}, {"latency_max_ms", r.latency_max.count()}}},
      {"faults", std::move(faults)},
      {"history", {{"operations", r.operations}, {"lost_writes", r.lost_writes}, {"stale_reads", r.stale_reads},
                   {"violations", std::move(violations)}}},
      {"sla", {{"availability", r.availability()}, {"outage_ms", r.outage().count()},
               {"outage_per_day_ms", r.outage_per_day().count()}, {"five_nines_budget_per_day_ms", kFiveNinesPerDay.count()}}},
      {"timeline", std::move(timeline)},
      {"events", std::move(events)},
      {"passed", r.passed()}};
  return json::serialize(root) + "\n";
}

}  // namespace failover::drill
