#pragma once
// What `failover up` starts for a cluster file: every component as one
// child process of the failover binary, its generated config, the URL that
// says it is ready, in the order they must start (a layer after the ones
// it depends on). Pure: it reads nothing and starts nothing.
#include <string>
#include <vector>

#include "drill/cluster_config.h"

namespace failover::drill {

enum class ComponentKind { kWitness, kStore, kRegistry, kService, kAgent, kLb, kDns };

// "witness", "store", "registry", "service", "agent", "lb", "dns".
const char* kind_name(ComponentKind kind);

struct ComponentPlan {
  std::string name;  // unique in the cluster; an agent is "<instance>-agent"
  ComponentKind kind;
  std::vector<std::string> args;  // after the binary: {"store", "--config", ".../store-a.yaml"}
  std::string config_path;        // "" when the component takes flags only
  std::string config_text;        // what goes into config_path
  std::string data_dir;           // "" when it keeps nothing
  std::string log_path;           // its stdout and stderr
  std::string admin;              // host:port of its /status (and dashboard)
  std::string ready_path;         // GET admin + ready_path answers 200 once it is up
  std::vector<std::string> listens;  // every address it listens on, for people
};

// In start order; up stops them in the reverse order.
std::vector<ComponentPlan> plan_cluster(const ClusterConfig& cluster);

// A fault proxy up runs in its own process, in front of a component.
struct ProxyPlan {
  std::string component;  // the component behind it; also the proxy's name
  std::string listen;
  std::string upstream;   // the component's address (a store node's peer_listen)
};
std::vector<ProxyPlan> plan_proxies(const ClusterConfig& cluster);

}  // namespace failover::drill
