// The registry API's input handling: paths, query strings and JSON bodies
// as clients and peers send them, then what parsed is applied to a Registry
// driven by a manual clock. Nothing may crash, leak or hang, and the
// registry's own invariants must hold after any sequence of accepted input.
#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "registry/api_parse.h"
#include "registry/registry.h"

using namespace failover;
using namespace failover::registry;

namespace {
// core::ManualClock's sleeps are coroutines, which clang 14 cannot build
// with the fuzzer's instrumentation; the registry only reads now().
class FuzzClock final : public core::Clock {
 public:
  core::TimePoint now() const override { return now_; }
  boost::asio::awaitable<bool> sleep_until(core::TimePoint, std::stop_token) const override { std::abort(); }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  core::TimePoint now_ = core::TimePoint(std::chrono::hours(1000));
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  FuzzClock clock;
  RegistryOptions options;
  options.max_services = 8;
  options.max_instances_per_service = 8;
  options.protect_threshold = 0.5;
  Registry registry(clock, options);
  InstanceLimits limits;

  switch (data[0] % 6) {
    case 0: {
      auto r = parse_route(text);
      if (r && r->kind == Route::Kind::kInstance) {
        if (!instance_id_problem(r->id).empty()) __builtin_trap();
        if (!service_name_problem(r->service).empty()) __builtin_trap();
      }
      break;
    }
    case 1: {
      auto spec = parse_instance(text, limits);
      if (spec) {
        if (spec->port < 1 || spec->port > 65535) __builtin_trap();
        registry.put("web", "a", *spec);
        clock.advance(spec->ttl);
        registry.advance();
      }
      break;
    }
    case 2: {
      auto keys = parse_heartbeats(text, 100);
      if (keys)
        for (const auto& k : *keys) registry.heartbeat(k.service, k.id);
      break;
    }
    case 3: {
      auto changes = parse_changes(text, limits);
      if (!changes) break;
      for (const Change& c : *changes) {
        registry.apply(c);
        clock.advance(std::chrono::milliseconds(7));
        registry.advance();
      }
      // A dump must read back as the same changes.
      auto again = parse_changes(changes_json(registry.dump()), limits);
      if (!again) __builtin_trap();
      for (const auto& [name, count] : registry.services()) {
        auto view = registry.query(name, false);
        if (!view || view->instances.size() != count) __builtin_trap();
        (void)service_json(*view);
      }
      break;
    }
    case 4:
      (void)parse_service_query(text, std::chrono::milliseconds(300'000));
      break;
    default:
      (void)parse_heartbeat_query(text);
      break;
  }
  return 0;
}
