#include "agent/config.h"

#include <boost/json.hpp>
#include <map>
#include <yaml-cpp/yaml.h>

#include "core/config_error.h"
#include "core/yaml_util.h"
#include "health/check_yaml.h"
#include "net/url.h"

namespace failover::agent {
namespace {

using core::YamlMap;
using core::YamlValue;
using std::chrono::milliseconds;

constexpr std::size_t kMaxServices = 256;

AgentService parse_service(const YamlValue& v) {
  YamlMap m(v, {"name", "id", "address", "port", "ttl", "meta", "check"});
  AgentService s;
  s.line = v.line;
  YamlValue name = m.required("name");
  s.name = name.as_string();
  if (!core::plain_name(s.name)) name.fail(std::string("service name ") + core::kPlainNameRule);
  s.id = m.string_or("id", s.name);
  if (s.id.empty() || s.id.size() > 128 || s.id.find_first_of("/?#% ") != std::string::npos)
    m.fail("id", "must be 1 to 128 characters without '/', '?', '#', '%' or spaces");
  s.address = m.string_or("address", "127.0.0.1");
  if (s.address.empty() || s.address.find_first_of(" /") != std::string::npos)
    m.fail("address", "must be an IP or a host name");
  s.port = m.int_or("port", 0, 1, 65535);
  if (!m.has("port")) m.fail("missing key port");
  s.ttl = m.duration_or("ttl", s.ttl, milliseconds(100), milliseconds(24 * 3600 * 1000));
  if (m.has("meta")) {
    boost::json::object meta;
    for (const auto& [key, value] : m.required("meta").as_entries()) meta[key] = value.as_string();
    s.meta = boost::json::serialize(meta);
  }
  if (m.has("check")) {
    s.check = health::parse_check_yaml(m.required("check"), /*initial_up=*/false);
  }
  return s;
}

AgentConfig parse_agent(const YamlValue& section) {
  YamlMap m(section, {"registry", "token", "admin", "services"});
  AgentConfig c;
  c.source = section.file;
  YamlValue registry = m.required("registry");
  for (const YamlValue& u : registry.as_list_or_scalar()) {
    const std::string url = u.as_string();
    if (auto parsed = net::parse_http_url(url); !parsed.ok())
      u.fail("bad URL \"" + url + "\": " + parsed.error().message);
    c.registry.push_back(url);
  }
  c.token = m.string_or("token", "");
  if (m.has("admin")) {
    YamlValue a = m.required("admin");
    c.admin = a.as_string();
    if (std::string p = core::address_problem(c.admin); !p.empty())
      a.fail("bad address \"" + c.admin + "\": " + p);
  }
  YamlValue services = m.required("services");
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const YamlValue& sv : services.as_list()) {
    AgentService s = parse_service(sv);
    auto [it, fresh] = seen.emplace(std::pair{s.name, s.id}, s.line);
    if (!fresh)
      sv.fail("duplicate service " + s.name + " id " + s.id + " (first on line " +
              std::to_string(it->second) + ")");
    c.services.push_back(std::move(s));
  }
  if (c.services.empty()) services.fail("needs at least one service");
  if (c.services.size() > kMaxServices) services.fail("more than 256 services");
  return c;
}

}  // namespace

AgentConfig parse_agent_config(const std::string& yaml_text, const std::string& file_name) {
  return core::parse_section(yaml_text, file_name, "agent", parse_agent);
}

AgentConfig load_agent_config(const std::string& path) {
  return parse_agent_config(core::read_config_file(path), path);
}

}  // namespace failover::agent
