// The cluster file of `failover up`: any input either parses or throws
// core::ConfigError; what parses keeps the promises the launcher relies on
// (two store nodes, every name and address once) and plans without error.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "core/config_error.h"
#include "drill/cluster_config.h"
#include "drill/cluster_plan.h"

using namespace failover;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const drill::ClusterConfig c = drill::parse_cluster_config(text, "fuzz.yaml");
    if (c.store_nodes.size() != 2 || c.lbs.empty() || c.instances.empty()) __builtin_trap();
    const auto plan = drill::plan_cluster(c);
    std::set<std::string> names, addresses;
    for (const drill::ComponentPlan& p : plan) {
      if (!names.insert(p.name).second) __builtin_trap();
      for (const std::string& a : p.listens)
        if (!addresses.insert(a).second) __builtin_trap();
    }
  } catch (const core::ConfigError&) {
  }
  return 0;
}
