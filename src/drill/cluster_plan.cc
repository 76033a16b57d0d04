#include "drill/cluster_plan.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

namespace failover::drill {
namespace {

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

std::string http(const std::string& address) { return "http://" + address; }

YAML::Node check_node(const ClusterCheck& c) {
  YAML::Node n;
  n["interval"] = ms(c.interval);
  n["rise"] = c.rise;
  n["fall"] = c.fall;
  n["timeout"] = ms(c.timeout);
  n["type"] = "http";
  n["uri"] = "/health";
  return n;
}

YAML::Node registry_urls(const ClusterConfig& c) {
  YAML::Node urls;
  for (const NamedAddress& r : c.registry_nodes) urls.push_back(http(reach(r.listen, r.proxy)));
  return urls;
}

std::string dump(const char* section, const YAML::Node& body) {
  YAML::Node root;
  root[section] = body;
  YAML::Emitter out;
  out << root;
  return std::string("# Written by failover up from the cluster file; changes here are lost.\n") + out.c_str() + "\n";
}

// host:port -> host and port, for the agent's service entry.
std::pair<std::string, std::string> split_address(const std::string& a) {
  const auto colon = a.rfind(':');
  return {a.substr(0, colon), a.substr(colon + 1)};
}

class Planner {
 public:
  explicit Planner(const ClusterConfig& c) : c_(c), dir_(c.dir) {}

  std::vector<ComponentPlan> plan() {
    witness();
    for (const StoreNodeSpec& n : c_.store_nodes) store(n);
    for (const NamedAddress& r : c_.registry_nodes) registry(r);
    for (const InstanceSpec& i : c_.instances) {
      service(i);
      agent(i);
    }
    for (const LbSpec& l : c_.lbs) lb(l);
    for (const DnsSpec& d : c_.dns_nodes) dns(d);
    return std::move(out_);
  }

 private:
  ComponentPlan& add(const std::string& name, ComponentKind kind, const std::string& admin) {
    ComponentPlan& p = out_.emplace_back();
    p.name = name;
    p.kind = kind;
    p.admin = admin;
    p.ready_path = "/status";
    p.log_path = (dir_ / "logs" / (name + ".log")).string();
    return p;
  }

  void with_config(ComponentPlan& p, const char* section, const YAML::Node& body) {
    p.config_path = (dir_ / "config" / (p.name + ".yaml")).string();
    p.config_text = dump(section, body);
    p.args = {kind_name(p.kind), "--config", p.config_path};
  }

  void witness() {
    ComponentPlan& p = add(c_.witness.name, ComponentKind::kWitness, c_.witness.listen);
    p.data_dir = (dir_ / "data" / p.name).string();
    YAML::Node w;
    w["listen"] = c_.witness.listen;
    w["data_dir"] = p.data_dir;
    with_config(p, "witness", w);
    p.listens = {c_.witness.listen};
  }

  void store(const StoreNodeSpec& n) {
    ComponentPlan& p = add(n.name, ComponentKind::kStore, n.listen);
    p.data_dir = (dir_ / "data" / p.name).string();
    YAML::Node s;
    s["node"] = n.name;
    s["listen"] = n.listen;
    s["peer_listen"] = n.peer_listen;
    s["data_dir"] = p.data_dir;
    for (const StoreNodeSpec& peer : c_.store_nodes) {
      if (peer.name == n.name) continue;
      s["peers"][peer.name]["listen"] = peer.listen;
      s["peers"][peer.name]["peer_listen"] = reach(peer.peer_listen, peer.proxy);
    }
    s["arbiter"]["type"] = "witness";
    s["arbiter"]["address"] = reach(c_.witness.listen, c_.witness.proxy);
    s["heartbeat"]["interval"] = ms(c_.heartbeat_interval);
    s["heartbeat"]["timeout"] = ms(c_.heartbeat_timeout);
    s["lease"] = ms(c_.lease);
    with_config(p, "store", s);
    p.listens = {n.listen, n.peer_listen};
  }

  void registry(const NamedAddress& r) {
    ComponentPlan& p = add(r.name, ComponentKind::kRegistry, r.listen);
    YAML::Node g;
    g["listen"] = r.listen;
    YAML::Node peers = YAML::Node(YAML::NodeType::Sequence);
    for (const NamedAddress& other : c_.registry_nodes)
      if (other.name != r.name) peers.push_back(http(reach(other.listen, other.proxy)));
    g["peers"] = peers;
    with_config(p, "registry", g);
    p.listens = {r.listen};
  }

  void service(const InstanceSpec& i) {
    ComponentPlan& p = add(i.name, ComponentKind::kService, i.listen);
    std::string stores;
    for (const StoreNodeSpec& n : c_.store_nodes) stores += (stores.empty() ? "" : ",") + http(n.listen);
    p.args = {"demo-service", "--name", i.name, "--listen", i.listen, "--store", stores};
    p.ready_path = "/health";
    p.listens = {i.listen};
  }

  void agent(const InstanceSpec& i) {
    ComponentPlan& p = add(i.name + "-agent", ComponentKind::kAgent, i.agent);
    // Registered as others reach it: the LBs and the agent's check alike.
    const auto [host, port] = split_address(reach(i.listen, i.proxy));
    YAML::Node a;
    a["registry"] = registry_urls(c_);
    a["admin"] = i.agent;
    YAML::Node svc;
    svc["name"] = c_.service;
    svc["id"] = i.name;
    svc["address"] = host;
    svc["port"] = std::stoi(port);
    svc["ttl"] = ms(c_.service_ttl);
    svc["check"] = check_node(c_.check);
    a["services"].push_back(svc);
    with_config(p, "agent", a);
    p.listens = {i.agent};
  }

  void lb(const LbSpec& l) {
    ComponentPlan& p = add(l.name, ComponentKind::kLb, l.admin);
    YAML::Node b;
    b["listen"] = l.listen;
    b["admin"] = l.admin;
    b["threads"] = 1;  // a dozen processes share this machine's cores
    YAML::Node up;
    up["name"] = c_.service;
    up["discovery"]["registry"] = registry_urls(c_);
    up["discovery"]["service"] = c_.service;
    up["check"] = check_node(c_.check);
    // A try waits out a store failover inside the instance (its client's
    // deadline), so it is longer than that; PUTs are retried on another
    // instance, safely: the client's Idempotency-Key goes with them.
    up["retry"]["tries"] = 3;
    up["retry"]["timeout"] = "10s";
    up["retry"]["try_timeout"] = "4s";
    b["upstreams"].push_back(up);
    with_config(p, "lb", b);
    p.listens = {l.listen, l.admin};
  }

  void dns(const DnsSpec& d) {
    ComponentPlan& p = add(d.name, ComponentKind::kDns, d.http_listen);
    YAML::Node n;
    n["http_listen"] = d.http_listen;
    n["dns_listen"] = d.dns_listen;
    n["ttl"] = c_.dns_ttl;
    n["threads"] = 1;
    YAML::Node domain;
    for (const LbSpec& l : c_.lbs) domain["targets"].push_back(reach(l.listen, l.proxy));
    domain["check"] = check_node(c_.check);
    n["domains"][c_.dns_name] = domain;
    with_config(p, "dns", n);
    p.listens = {d.http_listen};
    if (!d.dns_listen.empty()) p.listens.push_back(d.dns_listen);
  }

  const ClusterConfig& c_;
  const std::filesystem::path dir_;
  std::vector<ComponentPlan> out_;
};

}  // namespace

const char* kind_name(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kWitness: return "witness";
    case ComponentKind::kStore: return "store";
    case ComponentKind::kRegistry: return "registry";
    case ComponentKind::kService: return "service";
    case ComponentKind::kAgent: return "agent";
    case ComponentKind::kLb: return "lb";
    case ComponentKind::kDns: return "dns";
  }
  return "?";
}

std::vector<ComponentPlan> plan_cluster(const ClusterConfig& cluster) { return Planner(cluster).plan(); }

std::vector<ProxyPlan> plan_proxies(const ClusterConfig& c) {
  std::vector<ProxyPlan> out;
  auto add = [&](const std::string& name, const std::string& proxy, const std::string& upstream) {
    if (!proxy.empty()) out.push_back({name, proxy, upstream});
  };
  add(c.witness.name, c.witness.proxy, c.witness.listen);
  for (const StoreNodeSpec& n : c.store_nodes) add(n.name, n.proxy, n.peer_listen);
  for (const NamedAddress& r : c.registry_nodes) add(r.name, r.proxy, r.listen);
  for (const InstanceSpec& i : c.instances) add(i.name, i.proxy, i.listen);
  for (const LbSpec& l : c.lbs) add(l.name, l.proxy, l.listen);
  for (const DnsSpec& d : c.dns_nodes) add(d.name, d.proxy, d.http_listen);
  return out;
}

}  // namespace failover::drill
