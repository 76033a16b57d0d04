#pragma once
// Capturing the start-up error a user would see from a config loader:
//   EXPECT_THAT(test::error_of([&] { parse_lb_config(yaml, "lb.yaml"); }),
//               StartsWith("lb.yaml:3: ..."));
// Only core::ConfigError is caught: any other exception escapes and fails the
// test, since loaders promise to throw nothing else.
#include <optional>
#include <string>
#include <utility>

#include "core/config_error.h"

namespace failover::test {

// The ConfigError `f` threw, for tests that check file() or line(); nullopt
// when it threw none.
template <class F>
std::optional<core::ConfigError> config_error_of(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const core::ConfigError& e) {
    return e;
  }
  return std::nullopt;
}

// The message ("file:line: what is wrong") of the ConfigError `f` threw, or
// "no error", which reads well in a failed EXPECT.
template <class F>
std::string error_of(F&& f) {
  const auto e = config_error_of(std::forward<F>(f));
  return e ? e->what() : "no error";
}

}  // namespace failover::test
