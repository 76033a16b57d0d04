// The fault list of `failover drill --faults`: any bytes parse or give an
// error, never a crash; a list that parses names only components of the
// cluster (or `primary`), and its link faults only where proxies are.
#include <cstddef>
#include <cstdint>
#include <string>

#include "drill/cluster_config.h"
#include "drill/drill_plan.h"

using namespace failover;

namespace {
// The shipped example's shape, with proxies on the store pair and web-2.
const char* kCluster = R"(cluster: {dir: /tmp/fuzz, dashboard: 127.0.0.1:9000}
witness: {listen: 127.0.0.1:7200}
store:
  nodes:
    store-a: {listen: 127.0.0.1:7001, peer_listen: 127.0.0.1:7101, proxy: 127.0.0.1:7111}
    store-b: {listen: 127.0.0.1:7002, peer_listen: 127.0.0.1:7102, proxy: 127.0.0.1:7112}
registry: {nodes: {registry-1: {listen: 127.0.0.1:8500}}}
service: {name: web, instances: {web-1: {listen: 127.0.0.1:18081, agent: 127.0.0.1:19081},
                                 web-2: {listen: 127.0.0.1:18082, agent: 127.0.0.1:19082, proxy: 127.0.0.1:18092}}}
lb: {nodes: {lb-a: {listen: 127.0.0.11:8080, admin: 127.0.0.11:9080}}}
dns: {nodes: {dns-1: {http_listen: 127.0.0.21:8053}}}
)";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const drill::ClusterConfig cluster = drill::parse_cluster_config(kCluster, "fuzz.yaml");
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto steps = drill::parse_fault_steps(text, cluster);
  if (!steps) return 0;
  if (steps->empty()) __builtin_trap();
  for (const drill::FaultStep& s : *steps) {
    if (s.action == drill::FaultAction::kLink && s.link.kind == drill::Fault::Kind::kNone) __builtin_trap();
    if (s.action == drill::FaultAction::kLink && s.target != "primary" && s.target.rfind("store-", 0) != 0 &&
        s.target != "web-2")
      __builtin_trap();  // a link fault where no proxy is
  }
  return 0;
}
