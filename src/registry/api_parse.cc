#include "registry/api_parse.h"

#include <boost/json.hpp>
#include <charconv>

#include "core/units.h"
#include "core/yaml_util.h"
#include "net/url.h"

namespace failover::registry {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr std::size_t kMaxIdLength = 128;
constexpr std::size_t kMaxAddressLength = 253;  // a DNS name at most
constexpr std::size_t kMaxMetaKeys = 64;

// Splits "a/b/c" into its segments; empty segments are kept ("a//b").
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// Every helper below fails with kInvalid: the request itself is wrong.
core::Result<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return core::Error::invalid("body is not valid JSON: " + ec.message());
  if (!v.is_object()) return core::Error::invalid("body must be a JSON object");
  return std::move(v.as_object());
}

// Every key of `o` must be one of `allowed`: a typo is an error, not a
// silently ignored field.
core::Result<void> only_known_keys(const json::object& o, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known) return core::Error::invalid("unknown field \"" + std::string(kv.key()) + "\"");
  }
  return core::ok();
}

std::optional<std::int64_t> integer(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.as_uint64());
  return std::nullopt;
}

// The string `field` of `o`, which `problem` must find nothing wrong with.
core::Result<std::string> string_field(const json::object& o, std::string_view field,
                                       std::string (*problem)(std::string_view)) {
  std::string quoted = "\"";
  quoted.append(field).append("\"");
  const json::value* v = o.if_contains(field);
  if (!v) return core::Error::invalid("missing field " + quoted);
  if (!v->is_string()) return core::Error::invalid(quoted + " must be a string");
  std::string out(v->as_string());
  if (const std::string p = problem(out); !p.empty()) return core::Error::invalid(quoted + ": " + p);
  return out;
}

// The fields of an instance, shared by registrations and peer changes.
core::Result<void> read_spec(const json::object& o, const InstanceLimits& limits, InstanceSpec& spec) {
  auto bad = [](std::string why) { return core::Error::invalid(std::move(why)); };
  const json::value* address = o.if_contains("address");
  if (!address || !address->is_string() || address->as_string().empty())
    return bad("\"address\" must be a non-empty string");
  if (address->as_string().size() > kMaxAddressLength) return bad("\"address\" is too long");
  for (char c : address->as_string())
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '/')
      return bad("\"address\" must be an IP or a host name");
  spec.address = std::string(address->as_string());

  const json::value* port = o.if_contains("port");
  const auto p = port ? integer(*port) : std::nullopt;
  if (!p || *p < 1 || *p > 65535) return bad("\"port\" must be an integer from 1 to 65535");
  spec.port = static_cast<int>(*p);

  spec.ttl = limits.default_ttl;
  if (const json::value* ttl = o.if_contains("ttl_ms")) {
    const auto t = integer(*ttl);
    if (!t || *t < limits.min_ttl.count() || *t > limits.max_ttl.count()) {
      return bad("\"ttl_ms\" must be an integer from " + std::to_string(limits.min_ttl.count()) + " to " +
                 std::to_string(limits.max_ttl.count()));
    }
    spec.ttl = milliseconds(*t);
  }

  spec.meta = "{}";
  if (const json::value* meta = o.if_contains("meta")) {
    if (!meta->is_object()) return bad("\"meta\" must be an object of strings");
    if (meta->as_object().size() > kMaxMetaKeys) return bad("\"meta\" has too many keys");
    for (const auto& kv : meta->as_object())
      if (!kv.value().is_string()) return bad("\"meta\" values must be strings");
    spec.meta = json::serialize(*meta);
    if (spec.meta.size() > limits.max_meta_bytes) return bad("\"meta\" is too large");
  }
  return core::ok();
}

std::string to_string_problem(std::string_view name) { return service_name_problem(name); }
std::string to_id_problem(std::string_view id) { return instance_id_problem(id); }

}  // namespace

std::string service_name_problem(std::string_view name) {
  return core::plain_name(name) ? "" : std::string("service name ") + core::kPlainNameRule;
}

std::string instance_id_problem(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return "instance id must be 1 to 128 characters";
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return "instance id must not contain spaces or control characters";
    if (c == '/' || c == '?' || c == '#' || c == '%')
      return "instance id must not contain '/', '?', '#' or '%'";
  }
  return "";
}

core::Result<Route> parse_route(std::string_view path) {
  using Kind = Route::Kind;
  if (path == "/v1/services") return Route{Kind::kServices, {}, {}};
  if (path == "/v1/heartbeats") return Route{Kind::kHeartbeats, {}, {}};
  if (path == "/v1/internal/replicate") return Route{Kind::kReplicate, {}, {}};
  if (path == "/v1/internal/dump") return Route{Kind::kDump, {}, {}};
  constexpr std::string_view kPrefix = "/v1/services/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return core::Error::not_found("not an API path");
  const std::vector<std::string_view> parts = segments(path.substr(kPrefix.size()));

  Route r;
  auto service = net::percent_decode(parts[0]);
  if (!service) return core::Error::invalid("bad percent-encoding in the service name");
  if (std::string p = service_name_problem(*service); !p.empty()) return core::Error::invalid(p);
  r.service = std::move(*service);
  if (parts.size() == 1) {
    r.kind = Kind::kService;
    return r;
  }
  if (parts[1] != "instances" || parts.size() < 3) return core::Error::not_found("not an API path");
  // Anything past the id but "/heartbeat" means the id held a '/'.
  const bool heartbeat = parts.size() == 4 && parts[3] == "heartbeat";
  if (parts.size() > 4 || (parts.size() == 4 && !heartbeat))
    return core::Error::invalid("instance id must not contain '/', '?', '#' or '%'");
  auto id = net::percent_decode(parts[2]);
  if (!id) return core::Error::invalid("bad percent-encoding in the instance id");
  if (std::string p = instance_id_problem(*id); !p.empty()) return core::Error::invalid(p);
  r.id = std::move(*id);
  r.kind = heartbeat ? Kind::kHeartbeat : Kind::kInstance;
  return r;
}

core::Result<InstanceSpec> parse_instance(std::string_view body, const InstanceLimits& limits) {
  auto o = parse_object(body);
  if (!o) return o.error();
  if (auto known = only_known_keys(*o, {"address", "port", "ttl_ms", "meta"}); !known) return known.error();
  InstanceSpec spec;
  if (auto read = read_spec(*o, limits, spec); !read) return read.error();
  return spec;
}

core::Result<std::vector<InstanceKey>> parse_heartbeats(std::string_view body, std::size_t max_items) {
  using Result = core::Result<std::vector<InstanceKey>>;
  auto o = parse_object(body);
  if (!o) return o.error();
  if (auto known = only_known_keys(*o, {"instances"}); !known) return known.error();
  const json::value* list = o->if_contains("instances");
  if (!list || !list->is_array()) return core::Error::invalid("\"instances\" must be a list");
  if (list->as_array().size() > max_items)
    return core::Error::invalid("more than " + std::to_string(max_items) + " instances in one request");
  std::vector<InstanceKey> keys;
  keys.reserve(list->as_array().size());
  for (const json::value& item : list->as_array()) {
    if (!item.is_object()) return core::Error::invalid("each of \"instances\" must be an object");
    const json::object& i = item.as_object();
    if (auto known = only_known_keys(i, {"service", "id"}); !known) return known.error();
    auto service = string_field(i, "service", to_string_problem);
    if (!service) return service.error();
    auto id = string_field(i, "id", to_id_problem);
    if (!id) return id.error();
    keys.push_back({std::move(*service), std::move(*id)});
  }
  return Result(std::move(keys));
}

core::Result<std::vector<Change>> parse_changes(std::string_view body, const InstanceLimits& limits) {
  using Result = core::Result<std::vector<Change>>;
  auto o = parse_object(body);
  if (!o) return o.error();
  const json::value* list = o->if_contains("changes");
  if (!list || !list->is_array()) return core::Error::invalid("\"changes\" must be a list");
  std::vector<Change> changes;
  changes.reserve(list->as_array().size());
  for (const json::value& item : list->as_array()) {
    if (!item.is_object()) return core::Error::invalid("each change must be an object");
    const json::object& c = item.as_object();
    Change change;
    const json::value* op = c.if_contains("op");
    if (!op || !op->is_string() ||
        (op->as_string() != "put" && op->as_string() != "remove" && op->as_string() != "fail"))
      return core::Error::invalid("\"op\" must be \"put\", \"remove\" or \"fail\"");
    auto service = string_field(c, "service", to_string_problem);
    if (!service) return service.error();
    change.service = std::move(*service);
    auto id = string_field(c, "id", to_id_problem);
    if (!id) return id.error();
    change.id = std::move(*id);
    if (op->as_string() == "remove") {
      change.kind = Change::Kind::kRemove;
    } else if (op->as_string() == "fail") {
      change.kind = Change::Kind::kFail;
    } else {
      if (auto read = read_spec(c, limits, change.spec); !read) return read.error();
      const json::value* lease = c.if_contains("lease_ms");
      const auto left = lease ? integer(*lease) : std::nullopt;
      // Negative: the lease already ran out there (the instance is unhealthy).
      if (!left || *left > limits.max_ttl.count() || *left < -limits.max_ttl.count() * 4)
        return core::Error::invalid("\"lease_ms\" must be an integer within the ttl limits");
      change.lease_left = milliseconds(*left);
    }
    changes.push_back(std::move(change));
  }
  return Result(std::move(changes));
}

std::string changes_json(const std::vector<Change>& changes) {
  json::array list;
  list.reserve(changes.size());
  for (const Change& c : changes) {
    json::object o;
    o["op"] = c.kind == Change::Kind::kPut ? "put" : c.kind == Change::Kind::kFail ? "fail" : "remove";
    o["service"] = c.service;
    o["id"] = c.id;
    if (c.kind == Change::Kind::kPut) {
      o["address"] = c.spec.address;
      o["port"] = c.spec.port;
      o["ttl_ms"] = c.spec.ttl.count();
      boost::system::error_code ec;
      json::value meta = json::parse(c.spec.meta, ec);
      o["meta"] = ec ? json::value(json::object()) : std::move(meta);
      o["lease_ms"] = c.lease_left.count();
    }
    list.push_back(std::move(o));
  }
  return json::serialize(json::object{{"changes", std::move(list)}});
}

core::Result<ServiceQuery> parse_service_query(std::string_view query, milliseconds max_wait) {
  using Result = core::Result<ServiceQuery>;
  ServiceQuery q;
  q.wait = max_wait;
  for (const auto& [key, value] : net::split_query(query)) {
    if (key == "index") {
      std::uint64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
        return core::Error::invalid("index must be a non-negative integer");
      q.index = n;
    } else if (key == "wait") {
      const auto d = core::parse_duration(value);
      if (!d || d->count() < 1) return core::Error::invalid("wait must be a duration such as 30s or 500ms");
      q.wait = std::min(*d, max_wait);
    } else if (key == "all") {
      if (value != "" && value != "1" && value != "true" && value != "0" && value != "false")
        return core::Error::invalid("all must be 1, true, 0 or false");
      q.all = value == "" || value == "1" || value == "true";
    } else {
      return core::Error::invalid("unknown query parameter \"" + std::string(key) +
                          "\" (expected index, wait or all)");
    }
  }
  return Result(q);
}

std::optional<bool> parse_heartbeat_query(std::string_view query) {
  if (query.empty() || query == "healthy=true") return true;
  if (query == "healthy=false") return false;
  return std::nullopt;
}

std::string service_json(const ServiceView& view) {
  std::string out;
  out.reserve(64 + view.instances.size() * 96);
  out += "{\"index\":" + std::to_string(view.index) +
         ",\"protected\":" + (view.protected_mode ? "true" : "false");
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.4g", view.healthy_ratio);
  out += ",\"healthy_ratio\":";
  out += ratio;
  out += ",\"instances\":[";
  bool first = true;
  for (const Instance* i : view.instances) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":" + json::serialize(json::string(i->id)) +
           ",\"address\":" + json::serialize(json::string(i->spec.address)) +
           ",\"port\":" + std::to_string(i->spec.port) + ",\"meta\":" + i->spec.meta +
           ",\"healthy\":" + (i->healthy ? "true" : "false") + '}';
  }
  out += "]}\n";
  return out;
}

}  // namespace failover::registry
