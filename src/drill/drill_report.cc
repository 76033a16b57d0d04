#include "drill/drill_report.h"

#include <algorithm>
#include <cstdio>

namespace failover::drill {
namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}


// Chart geometry: the plot spans [kLeft, kLeft + kWidth] x [kTop, kTop + kHeight].
constexpr double kLeft = 50, kTop = 20, kWidth = 900, kHeight = 220, kEventsHeight = 14;

std::string timeline_svg(const DrillResult& r) {
  const double seconds = std::max(1.0, static_cast<double>(r.duration.count()) / 1000.0);
  std::uint64_t peak = 1;
  for (const LoadSecond& s : r.timeline) peak = std::max(peak, s.reads_ok + s.writes_ok + s.reads_failed + s.writes_failed);
  auto x = [&](double sec) { return kLeft + kWidth * std::min(sec, seconds) / seconds; };
  auto y = [&](double v) { return kTop + kHeight - kHeight * v / static_cast<double>(peak); };
  const double height = kTop + kHeight + 40 + kEventsHeight * static_cast<double>(std::min<std::size_t>(r.events.size(), 1));
  std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' width='" + num(kLeft + kWidth + 20) + "' height='" +
                    num(height + 20) + "' font-family='sans-serif' font-size='11'>";
  // Faults: a band from the fault to its failback.
  for (std::size_t i = 0; i < r.faults.size(); ++i) {
    const FaultResult& f = r.faults[i];
    const double a = static_cast<double>(f.at.count()) / 1000.0;
    double b = a + 0.2;
    if (f.restored) b = a + static_cast<double>(f.restored->count() + (f.failed_back ? f.failed_back->count() : 0)) / 1000.0;
    svg += "<rect class='fault' x='" + num(x(a)) + "' y='" + num(kTop) + "' width='" + num(std::max(1.0, x(b) - x(a))) +
           "' height='" + num(kHeight) + "' fill='#fde2c8'><title>" + esc(step_action(f.step) + " " +
           f.component) + "</title></rect>";
    // Labels on two rows, so that those of close faults do not overlap.
    svg += "<text x='" + num(x(a) + 2) + "' y='" + num(kTop + 10 + 12 * static_cast<double>(i % 2)) + "' fill='#a60'>" +
           esc(step_action(f.step) + " " + f.component) + "</text>";
  }
  // Axes.
  svg += "<line x1='" + num(kLeft) + "' y1='" + num(kTop + kHeight) + "' x2='" + num(kLeft + kWidth) + "' y2='" +
         num(kTop + kHeight) + "' stroke='#888'/>";
  svg += "<text x='4' y='" + num(kTop + 8) + "'>" + std::to_string(peak) + "/s</text>";
  svg += "<text x='4' y='" + num(kTop + kHeight) + "'>0</text>";
  for (int s = 0; s <= static_cast<int>(seconds); s += std::max(1, static_cast<int>(seconds / 10)))
    svg += "<text x='" + num(x(s) - 4) + "' y='" + num(kTop + kHeight + 14) + "'>" + std::to_string(s) + "s</text>";
  // Requests per second (ok) as a line, failures as red bars.
  std::string ok = "<polyline fill='none' stroke='#36c' stroke-width='1.5' points='";
  for (std::size_t s = 0; s < r.timeline.size(); ++s) {
    const LoadSecond& t = r.timeline[s];
    ok += num(x(static_cast<double>(s) + 0.5)) + "," + num(y(static_cast<double>(t.reads_ok + t.writes_ok))) + " ";
    const std::uint64_t failed = t.reads_failed + t.writes_failed;
    if (failed > 0)
      svg += "<rect class='failed' x='" + num(x(static_cast<double>(s))) + "' y='" + num(y(static_cast<double>(failed))) +
             "' width='" + num(std::max(2.0, x(1) - x(0))) + "' height='" + num(kTop + kHeight - y(static_cast<double>(failed))) +
             "' fill='#b00'><title>" + std::to_string(failed) + " failed</title></rect>";
  }
  svg += ok + "'/>";
  // State changes of the components, as ticks under the axis.
  const double ey = kTop + kHeight + 24;
  for (const StackEvent& e : r.events) {
    const double t = static_cast<double>(e.at.count()) / 1000.0;
    if (t < 0 || t > seconds) continue;
    svg += "<line x1='" + num(x(t)) + "' y1='" + num(ey) + "' x2='" + num(x(t)) + "' y2='" + num(ey + 10) +
           "' stroke='#070'><title>" + esc(e.component + ": " + e.what) + "</title></line>";
  }
  svg += "<text x='" + num(kLeft) + "' y='" + num(ey + 24) + "' fill='#555'>blue: requests/s answered; red: failed; "
         "orange: a fault until it was taken back; green ticks: state changes (hover for each)</text>";
  return svg + "</svg>";
}

}  // namespace

std::string drill_report_html(const DrillResult& r) {
  std::string h = "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>failover drill</title><style>"
                   "body{font:14px sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
                   "td,th{padding:2px 10px;text-align:left}th{border-bottom:1px solid #ccc}"
                   ".pass{color:#070}.fail{color:#b00}tr.over td{color:#b00}pre{background:#f6f6f6;padding:1em}</style></head><body>";
  h += "<h1>failover drill</h1><p>" + esc(r.cluster) + ", seed " + std::to_string(r.seed) + ", " +
       std::to_string(r.clients) + " clients, " + num(static_cast<double>(r.duration.count()) / 1000.0) + " s</p>";
  h += std::string("<h2 class='") + (r.passed() ? "pass'>PASS" : "fail'>FAIL") + "</h2>";
  h += "<p>" + std::to_string(r.reads) + " reads and " + std::to_string(r.writes) + " writes; failed: " +
       std::to_string(r.reads_failed) + " reads, " + std::to_string(r.writes_failed) + " writes. " +
       std::to_string(r.operations) + " operations checked: " + std::to_string(r.lost_writes) +
       " acknowledged writes lost, " + std::to_string(r.violations.size()) + " stale or impossible reads.</p>";
  char sla[256];
  std::snprintf(sla, sizeof sla,
                "<p>SLA %.6f %% (MTBF/(MTBF+MTTR), %zu faults): clients saw %lld ms of failure, %lld ms a day at "
                "this rate; five nines allow 864 ms a day.</p>",
                r.availability() * 100.0, r.faults.size(), static_cast<long long>(r.outage().count()),
                static_cast<long long>(r.outage_per_day().count()));
  h += sla;
  h += timeline_svg(r);
  h += "<h2>faults</h2><table><tr><th>fault</th><th>watched by</th><th>detected</th><th>bound</th><th>failed over</th>"
       "<th>failed back</th><th>bound</th><th>reads failed</th><th>writes failed</th><th>outage</th></tr>";
  for (const FaultResult& f : r.faults) {
    const FaultRow row = fault_row(f);
    h += row.over_bound ? "<tr class='over'>" : "<tr>";
    for (const std::string* cell : {&row.fault, &row.watched_by, &row.detected, &row.detect_bound, &row.failed_over,
                                    &row.failed_back, &row.failback_bound, &row.reads_failed, &row.writes_failed,
                                    &row.outage})
      h += "<td>" + esc(*cell) + "</td>";
    h += "</tr>";
  }
  h += "</table><h2>the terminal's table</h2><pre>" + esc(drill_table(r)) + "</pre></body></html>\n";
  return h;
}

}  // namespace failover::drill
