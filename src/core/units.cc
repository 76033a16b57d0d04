#include "core/units.h"

#include <charconv>
#include <limits>

namespace failover::core {
namespace {

// Splits "250ms" into 250 and "ms"; fails on an empty or non-numeric prefix.
bool split_number(std::string_view text, std::uint64_t& number, std::string_view& unit) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || ptr == text.data()) return false;
  unit = std::string_view(ptr, static_cast<std::size_t>(end - ptr));
  return true;
}

std::optional<std::uint64_t> scaled(std::uint64_t n, std::uint64_t factor) {
  if (factor != 0 && n > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
  return n * factor;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::uint64_t n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else return std::nullopt;
  auto ms = scaled(n, factor);
  // Bounded far below overflow of any time_point arithmetic we do later.
  if (!ms || *ms > 10ULL * 365 * 24 * 3'600'000) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(*ms));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  if (unit.empty() || unit == "b") return n;
  if (unit == "k" || unit == "K" || unit == "KiB") return scaled(n, 1ULL << 10);
  if (unit == "m" || unit == "M" || unit == "MiB") return scaled(n, 1ULL << 20);
  if (unit == "g" || unit == "G" || unit == "GiB") return scaled(n, 1ULL << 30);
  return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace failover::core
