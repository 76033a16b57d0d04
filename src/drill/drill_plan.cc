#include "drill/drill_plan.h"

#include <algorithm>

namespace failover::drill {
namespace {

using std::chrono::milliseconds;

const ComponentPlan* find(const std::string& name, const std::vector<ComponentPlan>& plan) {
  for (const ComponentPlan& p : plan)
    if (p.name == name) return &p;
  return nullptr;
}

bool has_proxy(const std::string& name, const std::vector<ProxyPlan>& proxies) {
  for (const ProxyPlan& p : proxies)
    if (p.component == name) return true;
  return false;
}

// A link fault on `target` needs a proxy on every link it cuts.
std::optional<std::string> missing_proxy(const std::string& target, const ClusterConfig& c) {
  const std::vector<ProxyPlan> proxies = plan_proxies(c);
  const std::vector<std::string> links =
      link_proxies(target == kPrimaryTarget ? c.store_nodes.front().name : target, c);
  const bool store = links.size() > 1;
  for (const std::string& name : links)
    if (!has_proxy(name, proxies))
      return name + " has no proxy: give it `proxy: HOST:PORT` in the cluster file" +
             (store ? " (a link fault on the store cuts the replication link of the pair, at each node's proxy)" : "");
  return std::nullopt;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

const char* action_name(FaultAction action) {
  switch (action) {
    case FaultAction::kKill: return "kill";
    case FaultAction::kStop: return "stop";
    case FaultAction::kLink: return "link";
  }
  return "?";
}

std::string step_action(const FaultStep& step) {
  return step.action == FaultAction::kLink ? to_string(step.link) : action_name(step.action);
}

bool may_pass_unnoticed(const FaultStep& step) {
  return step.action == FaultAction::kLink &&
         (step.link.kind == Fault::Kind::kDelay || (step.link.kind == Fault::Kind::kDrop && step.link.drop < 1));
}

std::vector<std::string> link_proxies(const std::string& target, const ClusterConfig& c) {
  for (const StoreNodeSpec& n : c.store_nodes)
    if (n.name == target) {
      std::vector<std::string> pair;
      for (const StoreNodeSpec& m : c.store_nodes) pair.push_back(m.name);
      return pair;
    }
  return {target};
}

core::Result<std::vector<FaultStep>> parse_fault_steps(const std::string& text, const ClusterConfig& cluster) {
  const std::vector<ComponentPlan> plan = plan_cluster(cluster);
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
    if (action == "kill") {
      step.action = FaultAction::kKill;
    } else if (action == "stop") {
      step.action = FaultAction::kStop;
    } else {
      std::string as_fault = action;  // delay=500ms -> delay 500ms
      std::replace(as_fault.begin(), as_fault.end(), '=', ' ');
      auto link = parse_fault(as_fault);
      if (!link || link->kind == Fault::Kind::kNone)
        return core::Error::invalid("fault \"" + item + "\": the action is kill, stop or a link fault (delay=100ms, "
                                    "drop=0.5, blackhole, half-open), not " + action);
      step.action = FaultAction::kLink;
      step.link = *link;
    }
    if (target != kPrimaryTarget && find(target, plan) == nullptr)
      return core::Error::invalid("fault \"" + item + "\": " + target + " is no component of the cluster (or primary)");
    if (step.action == FaultAction::kLink)
      if (auto missing = missing_proxy(target, cluster))
        return core::Error::invalid("fault \"" + item + "\": " + *missing);
    step.target = target;
    steps.push_back(std::move(step));
  }
  if (steps.empty()) return core::Error::invalid("no fault given");
  return steps;
}

std::vector<FaultStep> default_fault_steps(const ClusterConfig& c) {
  std::vector<FaultStep> steps{
      {FaultAction::kKill, c.lbs.front().name, {}},
      {FaultAction::kKill, c.instances.front().name, {}},
  };
  if (c.registry_nodes.size() > 1) steps.push_back({FaultAction::kKill, c.registry_nodes.front().name, {}});
  steps.push_back({FaultAction::kKill, kPrimaryTarget, {}});
  if (c.dns_nodes.size() > 1) steps.push_back({FaultAction::kKill, c.dns_nodes.front().name, {}});
  steps.push_back({FaultAction::kKill, c.witness.name, {}});
  steps.push_back({FaultAction::kStop, c.lbs.back().name, {}});
  steps.push_back({FaultAction::kStop, kPrimaryTarget, {}});
  // Links, where the cluster file put the proxies that make them.
  if (!missing_proxy(kPrimaryTarget, c))
    steps.push_back({FaultAction::kLink, kPrimaryTarget, Fault{Fault::Kind::kBlackhole, {}, 0}});
  for (const InstanceSpec& i : c.instances)
    if (!i.proxy.empty()) {
      steps.push_back({FaultAction::kLink, i.name, Fault{Fault::Kind::kDelay, milliseconds(500), 0}});
      break;
    }
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
