#pragma once
// Prometheus text exposition helpers shared by every role's /metrics.
#include <string>
#include <string_view>

namespace failover::core {

// A label value as the text format wants it: backslash, quote and newline escaped.
inline std::string prometheus_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace failover::core
