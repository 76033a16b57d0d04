#pragma once
// One probe result in /status, the same in every role:
// {"ago_ms","ok","cause","status","latency_ms","detail"}.
#include <boost/json/object.hpp>

#include "core/time.h"
#include "health/probe_result.h"

namespace failover::health {

inline boost::json::object probe_json(const ProbeResult& r, core::TimePoint at, core::TimePoint now) {
  return {{"ago_ms", core::millis_between(at, now)},
          {"ok", r.ok},
          {"cause", cause_name(r.cause)},
          {"status", r.status},
          {"latency_ms", r.latency.count()},
          {"detail", r.detail}};
}

}  // namespace failover::health
