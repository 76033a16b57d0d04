#pragma once
// The `check:` and `passive:` blocks as every role writes them in YAML, and
// the limits on their values that the nginx reader applies too, so that both
// formats accept and refuse the same things. Throws core::ConfigError.
#include <chrono>
#include <optional>
#include <string_view>

#include "core/yaml_util.h"
#include "health/check_config.h"
#include "health/passive_config.h"

namespace failover::health {

inline constexpr int kMaxRiseFall = 100;
// Below 10ms checks would load the servers more than the traffic does.
inline constexpr std::chrono::milliseconds kMinCheckInterval{10};
inline constexpr std::chrono::milliseconds kMaxCheckInterval{24 * 3'600'000};
inline constexpr std::chrono::milliseconds kMaxCheckTimeout{3'600'000};
inline constexpr int kMaxPassiveFails = 1000;
inline constexpr std::chrono::milliseconds kMaxFailTimeout{24 * 3'600'000};

// "2xx", "http_2xx" (nginx spelling) -> kStatus2xx; nothing for anything else.
std::optional<unsigned> parse_status_class(std::string_view name);

// Whether `text` may go into a request line or header: no spaces or control
// characters, which would let a config value inject headers.
bool safe_in_request(std::string_view text);

// {enabled, interval, rise, fall, timeout, type, uri, expect, host}. The block
// being present enables the check unless it says `enabled: false`.
// `initial_up`: the state before any probe when the block does not say
// `initial:` (the agent waits for a passing check before it registers).
CheckConfig parse_check_yaml(const core::YamlValue& value, bool initial_up = true);

// {max_fails, fail_timeout, max_ejection}.
PassiveConfig parse_passive_yaml(const core::YamlValue& value);

}  // namespace failover::health
