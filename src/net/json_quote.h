#pragma once
// JSON string literal of `s` (quotes included), for hand-built JSON. Plain
// C++ (Boost.JSON), so parsers that the fuzz build links can use it.
#include <string>
#include <string_view>

namespace failover::net {

std::string json_quote(std::string_view s);

}  // namespace failover::net
