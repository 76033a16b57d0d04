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

const char* type_name(MetricType t) { return t == MetricType::kCounter ? "counter" : "gauge"; }

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

void MetricsWriter::sample(std::string_view name, MetricType type, std::string_view help, Labels labels,
                           const std::string& value) {
  Family& f = find_or_add(name, type, help);
  std::string& out = f.samples;
  out += name;
  if (labels.size() > 0) {
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
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
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
