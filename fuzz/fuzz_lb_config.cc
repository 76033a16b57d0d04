// Any input either parses or throws core::ConfigError; every other exception,
// crash, leak or hang is a bug in the YAML reader (or yaml-cpp, which the
// reader must then guard against).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config_error.h"
#include "lb/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    failover::lb::LbConfig c = failover::lb::parse_lb_config(text, "fuzz.yaml");
    // What parsed must satisfy the contracts the proxy relies on.
    if (c.upstreams.empty()) __builtin_trap();
    for (const auto& u : c.upstreams) {
      if ((u.servers.empty() && !u.discovery) || u.servers.size() > 64) __builtin_trap();
    }
  } catch (const failover::core::ConfigError&) {
  }
  return 0;
}
