#pragma once
// `failover witness` configuration (the `witness:` section; a store node's
// file may hold it beside `store:`):
//   witness:
//     listen: 127.0.0.1:7200   # the API (/record), /status, /metrics, dashboard
//     data_dir: data/witness   # record.json lives here
#include <string>

namespace failover::arbiter {

struct WitnessConfig {
  std::string listen = "127.0.0.1:7200";
  std::string data_dir;  // required
  std::string source;    // the file it came from
};

// Throw core::ConfigError ("file:line: what is wrong").
WitnessConfig load_witness_config(const std::string& path);
WitnessConfig parse_witness_config(const std::string& yaml_text, const std::string& file_name);

}  // namespace failover::arbiter
