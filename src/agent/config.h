#pragma once
// `failover agent` configuration (the `agent:` section).
#include <chrono>
#include <string>
#include <vector>

#include "health/check_config.h"

namespace failover::agent {

struct AgentService {
  std::string name;                      // the registry service
  std::string id;                        // this instance's id
  std::string address;                   // what callers connect to
  int port = 0;
  std::chrono::milliseconds ttl{15'000};
  std::string meta = "{}";               // JSON object of strings
  health::CheckConfig check;             // enabled: heartbeats only while it passes
  int line = 0;
};

struct AgentConfig {
  std::vector<std::string> registry;     // registry URLs, http://host:port
  std::string token;
  std::string admin;                     // optional: /status of the agent
  std::vector<AgentService> services;
  std::string source;
};

// Reads `path` (YAML with an `agent:` section). Throws core::ConfigError.
AgentConfig load_agent_config(const std::string& path);
AgentConfig parse_agent_config(const std::string& yaml_text, const std::string& file_name);

}  // namespace failover::agent
