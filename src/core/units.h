#pragma once
// Durations and sizes as users write them in config files.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace failover::core {

// "250ms", "3s", "1m", "2h", or a bare integer meaning milliseconds.
// Returns nothing for anything else (negative, empty, unknown unit, overflow).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "16k", "1m", "512", "2g" (binary multiples), bare integer meaning bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);

// "1500ms", "3s", "2m" — the shortest exact spelling, for logs and JSON.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace failover::core
