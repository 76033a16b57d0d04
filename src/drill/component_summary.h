#pragma once
// One line that says how a component is doing, read from its own /status:
// what the stack's dashboard and `failover up` show, and what the drill
// watches for state changes. Pure: a JSON document in, a string out.
//
//   store     "primary e3" | "backup e3 in sync" | "backup e3 behind" | "candidate e2"
//   witness   "primary a e3"
//   lb        "2/3 servers up"
//   dns       "answers 127.0.0.11 127.0.0.12"
//   registry  "up"
//   agent     "healthy, registered" | "unhealthy: failed 2 times in a row"
//   service   "store 127.0.0.1:7001"
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "drill/cluster_plan.h"

namespace failover::drill {

// "" when the document is not what the kind's /status gives.
std::string summarize_status(ComponentKind kind, const boost::json::value& status);

// Requests a component has served since it started, and how many failed,
// from its /status: an LB's attempts to its servers, an instance's
// requests. nullopt for the other kinds. Two polls give the rates.
struct RequestCounts {
  std::uint64_t total = 0;
  std::uint64_t failed = 0;
};
std::optional<RequestCounts> request_counts(ComponentKind kind, const boost::json::value& status);

}  // namespace failover::drill
