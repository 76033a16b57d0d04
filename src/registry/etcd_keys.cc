#include "registry/etcd_keys.h"

#include "etcd/codec.h"

#include <charconv>
#include <exception>

#include <boost/json.hpp>

namespace failover::registry::etcd_keys {

namespace json = boost::json;

namespace {

core::Error bad(std::string what) { return core::Error::invalid("bad instance value in etcd: " + std::move(what)); }

bool valid_segment(std::string_view s) {
  return !s.empty() && s.find('/') == std::string_view::npos;
}

constexpr std::string_view kInstances = "instances";
constexpr std::string_view kAlive = "alive";

std::string make_key(std::string_view prefix, std::string_view service, std::string_view kind,
                     std::string_view id) {
  std::string k = service_prefix(prefix, service);
  k.reserve(k.size() + kind.size() + 1 + id.size());
  k += kind;
  k += '/';
  k += id;
  return k;
}
}  // namespace

std::string services_prefix(std::string_view prefix) {
  std::string p(prefix);
  p += "/services/";
  return p;
}

std::string service_prefix(std::string_view prefix, std::string_view service) {
  std::string p = services_prefix(prefix);
  p += service;
  p += '/';
  return p;
}

std::string instance_key(std::string_view prefix, std::string_view service, std::string_view id) {
  return make_key(prefix, service, kInstances, id);
}

std::string alive_key(std::string_view prefix, std::string_view service, std::string_view id) {
  return make_key(prefix, service, kAlive, id);
}

std::optional<RegistryKey> split_key(std::string_view prefix, std::string_view key) {
  try {
    const std::string head = services_prefix(prefix);
    if (key.size() <= head.size() || key.substr(0, head.size()) != head) return std::nullopt;
    std::string_view rest = key.substr(head.size());
    std::size_t a = rest.find('/');
    if (a == std::string_view::npos) return std::nullopt;
    std::size_t b = rest.find('/', a + 1);
    if (b == std::string_view::npos) return std::nullopt;
    std::string_view service = rest.substr(0, a);
    std::string_view kind = rest.substr(a + 1, b - a - 1);
    std::string_view id = rest.substr(b + 1);
    if (!valid_segment(service) || !valid_segment(id)) return std::nullopt;
    RegistryKey k;
    if (kind == kInstances) k.kind = KeyKind::kInstance;
    else if (kind == kAlive) k.kind = KeyKind::kAlive;
    else return std::nullopt;
    k.service = service;
    k.id = id;
    return k;
  } catch (...) {
    return std::nullopt;
  }
}

std::string encode_instance_value(const InstanceValue& value) {
  json::object o;
  o["address"] = value.address;
  o["port"] = value.port;
  o["ttl_ms"] = value.ttl_ms;
  json::error_code ec;
  json::value meta = json::parse(value.meta, ec);
  if (ec || !meta.is_object()) meta = json::object();  // the registry validated it already
  o["meta"] = std::move(meta);
  return json::serialize(o);
}

core::Result<InstanceValue> decode_instance_value(std::string_view text) {
  try {
    json::error_code ec;
    json::parse_options opts;
    opts.max_depth = 32;
    json::value parsed = json::parse(text, ec, {}, opts);
    if (ec || !parsed.is_object()) return bad("not a JSON object");
    const json::object* o = &parsed.get_object();
    InstanceValue r;
    const json::value* address = o->if_contains("address");
    if (!address || !address->is_string() || address->get_string().empty())
      return bad("instance value without an address");
    r.address.assign(address->get_string().data(), address->get_string().size());
    std::int64_t port = 0;
    if (!etcd::json_int(*o, "port", port) || port < 1 || port > 65535)
      return bad("instance value without a port in 1..65535");
    r.port = static_cast<int>(port);
    if (!etcd::json_int(*o, "ttl_ms", r.ttl_ms) || r.ttl_ms <= 0)
      return bad("instance value without a positive ttl_ms");
    if (const json::value* meta = o->if_contains("meta")) {
      if (!meta->is_object()) return bad("instance meta is not an object");
      r.meta = json::serialize(*meta);
    }
    return r;
  } catch (const std::exception& e) {
    return core::Error::internal(std::string("instance value: ") + e.what());
  }
}

std::int64_t lease_seconds(std::chrono::milliseconds ttl) {
  if (ttl.count() <= 1000) return 1;
  return (ttl.count() + 999) / 1000;
}

}  // namespace failover::registry::etcd_keys
