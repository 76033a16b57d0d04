#include "drill/drill_plan.h"

namespace failover::drill {
namespace {

using std::chrono::milliseconds;

bool is_component(const std::string& name, const ClusterConfig& c) {
  for (const ComponentPlan& p : plan_cluster(c))
    if (p.name == name) return true;
  return false;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

const char* action_name(FaultAction action) { return action == FaultAction::kKill ? "kill" : "stop"; }

core::Result<std::vector<FaultStep>> parse_fault_steps(const std::string& text, const ClusterConfig& cluster) {
  std::vector<FaultStep> steps;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    const std::string item = trim(text.substr(from, comma - from));
    from = comma + 1;
    if (item.empty()) continue;
    const auto colon = item.find(':');
    if (colon == std::string::npos)
      return core::Error::invalid("fault \"" + item + "\": expected ACTION:TARGET, as kill:lb-a or stop:primary");
    const std::string action = item.substr(0, colon), target = item.substr(colon + 1);
    FaultStep step;
    if (action == "kill") step.action = FaultAction::kKill;
    else if (action == "stop") step.action = FaultAction::kStop;
    else return core::Error::invalid("fault \"" + item + "\": the action is kill or stop, not " + action);
    if (target != kPrimaryTarget && !is_component(target, cluster))
      return core::Error::invalid("fault \"" + item + "\": " + target + " is no component of the cluster (or primary)");
    step.target = target;
    steps.push_back(std::move(step));
  }
  if (steps.empty()) return core::Error::invalid("no fault given");
  return steps;
}

std::vector<FaultStep> default_fault_steps(const ClusterConfig& c) {
  std::vector<FaultStep> steps{
      {FaultAction::kKill, c.lbs.front().name},
      {FaultAction::kKill, c.instances.front().name},
  };
  if (c.registry_nodes.size() > 1) steps.push_back({FaultAction::kKill, c.registry_nodes.front().name});
  steps.push_back({FaultAction::kKill, kPrimaryTarget});
  if (c.dns_nodes.size() > 1) steps.push_back({FaultAction::kKill, c.dns_nodes.front().name});
  steps.push_back({FaultAction::kKill, c.witness.name});
  steps.push_back({FaultAction::kStop, c.lbs.back().name});
  steps.push_back({FaultAction::kStop, kPrimaryTarget});
  return steps;
}

FaultBounds bounds_for(ComponentKind kind, const ClusterConfig& c, milliseconds slack) {
  // A health-checked component: `fall` failed checks, the last one timing
  // out; back after `rise` passing ones, the first within an interval.
  const milliseconds checked_down = c.check.fall * c.check.interval + c.check.timeout + slack;
  const milliseconds checked_up = c.check.rise * c.check.interval + c.check.interval + slack;
  switch (kind) {
    case ComponentKind::kLb:
      return {checked_down, checked_up};
    case ComponentKind::kService:
      return {checked_down, checked_up};
    case ComponentKind::kAgent:  // its instance leaves the registry when the ttl runs out
      return {c.service_ttl + c.check.interval + slack, checked_up};
    case ComponentKind::kStore:
      // The backup's grace, then the witness's compare-and-set (its
      // timeout is 500 ms at most) and the reconciliation.
      return {c.heartbeat_timeout + milliseconds(500) + slack, std::nullopt};
    case ComponentKind::kWitness:
    case ComponentKind::kRegistry:
    case ComponentKind::kDns:
      return {};
  }
  return {};
}

}  // namespace failover::drill
