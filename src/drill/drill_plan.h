#pragma once
// What `failover drill` does to a cluster, decided before it starts: the
// faults in order (--faults, or one per layer by default), and for each the
// bounds its config implies. Pure.
//
// --faults is a comma-separated list of ACTION:TARGET. ACTION is kill
// (SIGKILL, then a restart), stop (SIGSTOP, a hang, then SIGCONT) or a
// fault on the link into the target through its fault proxy (fault.h, with
// `=` for the space: delay=500ms, drop=0.3, blackhole, half-open; lifted
// with `none`). TARGET is a component's name, or `primary`: the store node
// that is primary when the fault comes. A link fault on a store node cuts
// the replication link of the pair both ways (the proxies in front of each
// node's replication port), so every store node needs a proxy for it; any
// other target needs its own.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "drill/cluster_config.h"
#include "drill/cluster_plan.h"
#include "drill/fault.h"

namespace failover::drill {

enum class FaultAction { kKill, kStop, kLink };
const char* action_name(FaultAction action);  // "kill", "stop", "link"

struct FaultStep {
  FaultAction action = FaultAction::kKill;
  std::string target;  // a component's name, or "primary"
  Fault link;          // kLink: what the proxies do to the link
  bool operator==(const FaultStep&) const = default;
};

// "kill", "stop", or the link fault: "blackhole", "delay 500ms".
std::string step_action(const FaultStep& step);

// A fault that a healthy layer may ride out without noticing (a delay
// shorter than its timeouts, a share of connections dropped): its
// detection has no bound, and not noticing it is no failure.
bool may_pass_unnoticed(const FaultStep& step);

// The components whose proxies carry a link fault of `target` (a component,
// not "primary"): every store node for a store node, else the target.
std::vector<std::string> link_proxies(const std::string& target, const ClusterConfig& cluster);

inline constexpr const char* kPrimaryTarget = "primary";

// kInvalid naming the bad item: an unknown action, a name that is no
// component of the cluster, an empty list.
core::Result<std::vector<FaultStep>> parse_fault_steps(const std::string& text, const ClusterConfig& cluster);

// One fault per layer, in the order of the issue that asked for the drill:
// an LB, an instance, a registry peer, the store primary, a DNS server, the
// witness, killed; then an LB and the primary hung; then, where the cluster
// file put proxies, the store's replication link blackholed and an
// instance's link slowed by 500 ms.
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
