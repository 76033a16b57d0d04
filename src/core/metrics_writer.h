#pragma once
// Prometheus text exposition (format 0.0.4) for every role's /metrics.
//
// Each family gets its HELP and TYPE lines once, and its samples stay
// together even when a caller interleaves families (a scrape with one
// family split in two is rejected by Prometheus). Label values are escaped
// here, so a service or upstream name from a config or an API call can
// never break a line or forge another sample.
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/histogram.h"

namespace failover::core {

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsWriter {
 public:
  using Label = std::pair<std::string_view, std::string_view>;  // name, value
  using Labels = std::initializer_list<Label>;

  // Declares a family, so that its HELP and TYPE appear even with no
  // sample. Declaring it again with another type or help is a
  // programming error (std::logic_error), as are names outside
  // [a-zA-Z_:][a-zA-Z0-9_:]*.
  void family(std::string_view name, MetricType type, std::string_view help);

  // One sample; declares the family on first use.
  template <std::integral T>
  void counter(std::string_view name, std::string_view help, Labels labels, T value) {
    sample(name, MetricType::kCounter, help, labels, integer(value));
  }
  template <std::integral T>
  void gauge(std::string_view name, std::string_view help, Labels labels, T value) {
    sample(name, MetricType::kGauge, help, labels, integer(value));
  }
  void gauge(std::string_view name, std::string_view help, Labels labels, double value) {
    sample(name, MetricType::kGauge, help, labels, number(value));
  }

  // One histogram series: NAME_bucket{labels..., le="B"} for every bound
  // and +Inf (cumulative), then NAME_sum and NAME_count. A label named `le`
  // is a programming error: the buckets own it.
  void histogram(std::string_view name, std::string_view help, Labels labels, const Histogram& h);

  // The exposition: families in the order they were first declared.
  std::string text() const;

  // Escapes a label value: backslash, double quote and newline.
  static std::string escape_label(std::string_view value);
  // Escapes HELP text: backslash and newline.
  static std::string escape_help(std::string_view help);
  // A sample value: integers as written, NaN, +Inf, -Inf, else the shortest
  // decimal that reads back as the same double.
  static std::string number(double value);

 private:
  struct Family {
    std::string name, help;
    MetricType type;
    std::string samples;
  };

  template <std::integral T>
  static std::string integer(T value) {
    if constexpr (std::same_as<T, bool>) return value ? "1" : "0";
    else return std::to_string(value);
  }
  void sample(std::string_view name, MetricType type, std::string_view help, Labels labels,
              const std::string& value);
  // Appends `name suffix{labels[,le="le"]} value` to `out`.
  static void line(std::string& out, std::string_view name, std::string_view suffix, Labels labels,
                   const std::string* le, const std::string& value);
  Family& find_or_add(std::string_view name, MetricType type, std::string_view help);

  std::vector<Family> families_;
};

}  // namespace failover::core
