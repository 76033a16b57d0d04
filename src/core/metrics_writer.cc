#include "core/metrics_writer.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace failover::core {

namespace {

bool valid_name(std::string_view n, bool colon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "gauge";
}

}  // namespace

std::string MetricsWriter::escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string MetricsWriter::escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string MetricsWriter::number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

MetricsWriter::Family& MetricsWriter::find_or_add(std::string_view name, MetricType type, std::string_view help) {
  for (Family& f : families_) {
    if (f.name != name) continue;
    if (f.type != type || f.help != help)
      throw std::logic_error("metric family " + std::string(name) + " declared twice, differently");
    return f;
  }
  if (!valid_name(name, true)) throw std::logic_error("bad metric name: " + std::string(name));
  families_.push_back(Family{std::string(name), std::string(help), type, {}});
  return families_.back();
}

void MetricsWriter::family(std::string_view name, MetricType type, std::string_view help) {
  find_or_add(name, type, help);
}

void MetricsWriter::line(std::string& out, std::string_view name, std::string_view suffix, Labels labels,
                         const std::string* le, const std::string& value) {
  out += name;
  out += suffix;
  char sep = '{';
  for (const auto& [k, v] : labels) {
    if (!valid_name(k, false) || k.starts_with("__"))
      throw std::logic_error("bad label name: " + std::string(k));
    out += sep;
    out += k;
    out += "=\"";
    out += escape_label(v);
    out += '"';
    sep = ',';
  }
  if (le) {
    out += sep;
    out += "le=\"";
    out += *le;
    out += '"';
    sep = ',';
  }
  if (sep != '{') out += '}';
  out += ' ';
  out += value;
  out += '\n';
}

void MetricsWriter::sample(std::string_view name, MetricType type, std::string_view help, Labels labels,
                           const std::string& value) {
  Family& f = find_or_add(name, type, help);
  line(f.samples, name, "", labels, nullptr, value);
}

void MetricsWriter::histogram(std::string_view name, std::string_view help, Labels labels, const Histogram& h) {
  for (const auto& label : labels)
    if (label.first == "le") throw std::logic_error("a histogram's label may not be named le");
  Family& f = find_or_add(name, MetricType::kHistogram, help);
  const std::vector<std::uint64_t> cumulative = h.cumulative_counts();
  const std::vector<double>& bounds = h.upper_bounds();
  for (std::size_t i = 0; i < cumulative.size(); ++i) {
    const std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
    line(f.samples, name, "_bucket", labels, &le, integer(cumulative[i]));
  }
  line(f.samples, name, "_sum", labels, nullptr, number(h.sum()));
  line(f.samples, name, "_count", labels, nullptr, integer(h.count()));
}

std::string MetricsWriter::text() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + ' ' + escape_help(f.help) + '\n';
    out += "# TYPE " + f.name + ' ' + type_name(f.type) + '\n';
    out += f.samples;
  }
  return out;
}

}  // namespace failover::core
