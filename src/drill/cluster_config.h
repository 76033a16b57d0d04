#pragma once
// The cluster file of `failover up` and `failover drill` (docs/up.md): one
// YAML file that describes the whole stack on this machine, from which up
// writes every component's own config.
//
//   cluster:  {dir, dashboard, check: {interval, rise, fall, timeout}, start_timeout}
//   witness:  {listen}
//   store:    {heartbeat: {interval, timeout}, lease, nodes: {NAME: {listen, peer_listen}} x 2}
//   registry: {nodes: {NAME: {listen}}}
//   service:  {name, ttl, instances: {NAME: {listen, agent}}}
//   lb:       {nodes: {NAME: {listen, admin}}}
//   dns:      {name, ttl, nodes: {NAME: {http_listen, dns_listen}}}
//
// Every component has a name unique in the file (the drill's faults and the
// dashboard use it) and addresses no other component uses. A mistake is a
// core::ConfigError, "file:line: what is wrong".
//
// Any component may take `proxy: HOST:PORT`: up then runs a fault proxy
// (fault_proxy.h) there, in front of the component's address (a store
// node's: its replication port), and every other component reaches it
// through the proxy, so that the drill can delay, drop, blackhole or
// half-open that link.
#include <chrono>
#include <string>
#include <vector>

namespace failover::drill {

// The health-check timing every layer uses for the layer below it: the
// LBs' checks of the instances, the DNS servers' of the LBs, the agents'.
struct ClusterCheck {
  std::chrono::milliseconds interval{200};
  int rise = 2;
  int fall = 2;
  std::chrono::milliseconds timeout{200};
};

struct StoreNodeSpec {
  std::string name;
  std::string listen;       // client API
  std::string peer_listen;  // replication
  std::string proxy;        // "": none; else the fault proxy in front of peer_listen
};

struct NamedAddress {
  std::string name;
  std::string listen;
  std::string proxy;  // "": none; else the fault proxy in front of listen
};

struct InstanceSpec {
  std::string name;
  std::string listen;  // the demo service
  std::string agent;   // its agent's admin address
  std::string proxy;   // "": none; else the fault proxy in front of listen
};

struct LbSpec {
  std::string name;
  std::string listen;  // client traffic
  std::string admin;
  std::string proxy;  // "": none; else the fault proxy in front of listen, on the same port
};

struct DnsSpec {
  std::string name;
  std::string http_listen;  // HTTPDNS
  std::string dns_listen;   // "" for HTTPDNS only
  std::string proxy;        // "": none; else the fault proxy in front of http_listen
};

struct ClusterConfig {
  std::string source;  // the file, for messages
  std::string dir;     // generated configs, data and logs
  std::string dashboard = "127.0.0.1:9000";
  ClusterCheck check;
  std::chrono::milliseconds start_timeout{20'000};  // for each component to become ready

  NamedAddress witness{"witness", "", ""};

  std::chrono::milliseconds heartbeat_interval{50};
  std::chrono::milliseconds heartbeat_timeout{250};
  std::chrono::milliseconds lease{200};
  std::vector<StoreNodeSpec> store_nodes;  // exactly two

  std::vector<NamedAddress> registry_nodes;

  std::string service = "web";
  std::chrono::milliseconds service_ttl{1'000};
  std::vector<InstanceSpec> instances;

  std::vector<LbSpec> lbs;

  std::string dns_name = "web.failover.test";
  int dns_ttl = 5;  // seconds
  std::vector<DnsSpec> dns_nodes;
};

// The address others use to reach a component: its proxy, if it has one.
inline const std::string& reach(const std::string& address, const std::string& proxy) {
  return proxy.empty() ? address : proxy;
}

// Throws core::ConfigError.
ClusterConfig parse_cluster_config(const std::string& yaml_text, const std::string& file_name);
ClusterConfig load_cluster_config(const std::string& path);

}  // namespace failover::drill
