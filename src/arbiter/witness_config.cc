#include "arbiter/witness_config.h"

#include "core/config_error.h"
#include "core/yaml_util.h"

namespace failover::arbiter {
namespace {

WitnessConfig parse_witness(const core::YamlValue& v) {
  core::YamlMap m(v, {"listen", "data_dir"});
  WitnessConfig c;
  c.source = v.file;
  if (m.has("listen")) {
    const core::YamlValue a = m.required("listen");
    c.listen = a.as_string();
    if (std::string problem = core::address_problem(c.listen); !problem.empty())
      a.fail("bad address \"" + c.listen + "\": " + problem);
  }
  const core::YamlValue dir = m.required("data_dir");
  c.data_dir = dir.as_string();
  if (c.data_dir.empty()) dir.fail("must name a directory (record.json is kept there)");
  return c;
}

}  // namespace

WitnessConfig parse_witness_config(const std::string& yaml_text, const std::string& file_name) {
  return core::parse_section(yaml_text, file_name, "witness", parse_witness);
}

WitnessConfig load_witness_config(const std::string& path) {
  return parse_witness_config(core::read_config_file(path), path);
}

}  // namespace failover::arbiter
