#include "drill/component_summary.h"

#include <boost/json.hpp>

namespace failover::drill {
namespace json = boost::json;

namespace {

// The value at `key` of an object, or null.
const json::value& at(const json::value& v, std::string_view key) {
  static const json::value null;
  if (!v.is_object()) return null;
  const json::value* found = v.as_object().if_contains(key);
  return found ? *found : null;
}

std::string text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  return "";
}

std::string store(const json::value& s) {
  const std::string role = text(at(s, "role"));
  if (role.empty()) return "";
  std::string out = role + " e" + text(at(s, "epoch"));
  const json::value& in_sync = at(s, "in_sync");
  if (role == "backup" && in_sync.is_bool()) out += in_sync.as_bool() ? " in sync" : " behind";
  if (role == "primary" && at(s, "serving").is_bool() && !at(s, "serving").as_bool()) out += " not serving";
  return out;
}

std::string witness(const json::value& s) {
  const json::value& r = at(s, "record");
  if (!r.is_object()) return "no record yet";
  return "primary " + text(at(r, "primary")) + " e" + text(at(r, "epoch"));
}

std::string lb(const json::value& s) {
  int up = 0, total = 0;
  const json::value& ups = at(s, "upstreams");
  if (!ups.is_array()) return "";
  for (const json::value& u : ups.as_array()) {
    const json::value& servers = at(u, "servers");
    if (!servers.is_array()) continue;
    for (const json::value& server : servers.as_array()) {
      ++total;
      if (text(at(server, "state")) == "up") ++up;
    }
  }
  return std::to_string(up) + "/" + std::to_string(total) + " servers up";
}

std::string dns(const json::value& s) {
  const json::value& names = at(s, "names");
  if (!names.is_array() || names.as_array().empty()) return "";
  const json::value& ips = at(at(names.as_array().front(), "answer"), "ips");
  if (!ips.is_array() || ips.as_array().empty()) return "answers nothing";
  std::string out = "answers";
  for (const json::value& ip : ips.as_array()) {
    out += ' ';
    out += text(ip);
  }
  return out;
}

std::string agent(const json::value& s) {
  const json::value& services = at(s, "services");
  if (!services.is_array() || services.as_array().empty()) return "";
  const json::value& t = services.as_array().front();
  const bool healthy = at(t, "healthy").is_bool() && at(t, "healthy").as_bool();
  const bool registered = at(t, "registered").is_bool() && at(t, "registered").as_bool();
  if (!healthy) return "unhealthy: " + text(at(t, "reason"));
  return registered ? "healthy, registered" : "healthy, not registered";
}

std::string service(const json::value& s) {
  const std::string current = text(at(s, "store_current"));
  return current.empty() ? "" : "store " + current.substr(current.find("//") == std::string::npos ? 0 : current.find("//") + 2);
}

std::uint64_t count(const json::value& v) {
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64() && v.as_int64() > 0) return static_cast<std::uint64_t>(v.as_int64());
  return 0;
}

}  // namespace

std::optional<RequestCounts> request_counts(ComponentKind kind, const json::value& s) {
  RequestCounts c;
  if (kind == ComponentKind::kLb) {
    const json::value& ups = at(s, "upstreams");
    if (!ups.is_array()) return std::nullopt;
    for (const json::value& u : ups.as_array()) {
      const json::value& servers = at(u, "servers");
      if (!servers.is_array()) continue;
      for (const json::value& server : servers.as_array()) {
        c.total += count(at(at(server, "requests"), "total"));
        c.failed += count(at(at(server, "requests"), "failures"));
      }
    }
    return c;
  }
  if (kind == ComponentKind::kService) {
    const json::value& r = at(s, "requests");
    if (!r.is_object()) return std::nullopt;
    c.failed = count(at(r, "get_failed")) + count(at(r, "put_failed"));
    c.total = c.failed + count(at(r, "get_ok")) + count(at(r, "get_not_found")) + count(at(r, "put_ok"));
    return c;
  }
  return std::nullopt;
}

std::string summarize_status(ComponentKind kind, const json::value& status) {
  switch (kind) {
    case ComponentKind::kStore: return store(status);
    case ComponentKind::kWitness: return witness(status);
    case ComponentKind::kLb: return lb(status);
    case ComponentKind::kDns: return dns(status);
    case ComponentKind::kRegistry: return text(at(status, "role")) == "registry" ? "up" : "";
    case ComponentKind::kAgent: return agent(status);
    case ComponentKind::kService: return service(status);
  }
  return "";
}

}  // namespace failover::drill
