#pragma once
// What `failover drill` does to a cluster, decided before it starts: the
// faults in order (--faults, or one per layer by default), and for each the
// bounds its config implies. Pure.
//
// --faults is a comma-separated list of ACTION:TARGET. ACTION is kill
// (SIGKILL, then a restart) or stop (SIGSTOP, a hang, then SIGCONT); TARGET
// is a component's name, or `primary`: the store node that is primary when
// the fault comes.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "drill/cluster_config.h"
#include "drill/cluster_plan.h"

namespace failover::drill {

enum class FaultAction { kKill, kStop };
const char* action_name(FaultAction action);  // "kill", "stop"

struct FaultStep {
  FaultAction action = FaultAction::kKill;
  std::string target;  // a component's name, or "primary"
  bool operator==(const FaultStep&) const = default;
};

inline constexpr const char* kPrimaryTarget = "primary";

// kInvalid naming the bad item: an unknown action, a name that is no
// component of the cluster, an empty list.
core::Result<std::vector<FaultStep>> parse_fault_steps(const std::string& text, const ClusterConfig& cluster);

// One fault per layer, in the order of the issue that asked for the drill:
// an LB, an instance, a registry peer, the store primary, a DNS server, the
// witness, killed; then an LB and the primary hung.
std::vector<FaultStep> default_fault_steps(const ClusterConfig& cluster);

// The longest a fault of a component of `kind` may take to be noticed by
// the layer that watches it, and to be taken back once the component is
// ready again, from the cluster's config; nullopt where the config implies
// no bound (the registry's peers, the witness, a DNS server that only
// clients notice). Both include `slack` for the drill's own polling.
struct FaultBounds {
  std::optional<std::chrono::milliseconds> detect;
  std::optional<std::chrono::milliseconds> failback;
};
FaultBounds bounds_for(ComponentKind kind, const ClusterConfig& cluster, std::chrono::milliseconds slack);

}  // namespace failover::drill
