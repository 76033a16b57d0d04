#include "arbiter/witness_request.h"

#include <boost/json.hpp>

namespace failover::arbiter {
namespace json = boost::json;

namespace {

core::Result<json::object> parse_object(std::string_view body, const char* what) {
  if (body.size() > kMaxRequestBytes)
    return core::Error::invalid(std::string(what) + ": larger than " + std::to_string(kMaxRequestBytes) + " bytes");
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return core::Error::invalid(std::string(what) + ": malformed JSON: " + ec.message());
  if (!v.is_object()) return core::Error::invalid(std::string(what) + ": not a JSON object");
  return std::move(v.get_object());
}

// The nested record goes back through record_from_json, the one reader of
// records, so every way in checks the same fields the same way.
core::Result<Record> record_field(const json::object& o, std::string_view key, const char* what) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_object())
    return core::Error::invalid(std::string(what) + ": \"" + std::string(key) + "\" must be a record object");
  return record_from_json(json::serialize(*v));
}

}  // namespace

core::Result<CasRequest> parse_cas_request(std::string_view body) {
  auto o = parse_object(body, "request");
  if (!o) return o.error();
  for (const auto& kv : *o)
    if (kv.key() != "expected_version" && kv.key() != "record")
      return core::Error::invalid("request: unknown key \"" + std::string(kv.key()) + "\"");
  const json::value* expected = o->if_contains("expected_version");
  CasRequest request;
  if (expected && expected->is_uint64()) request.expected_version = expected->get_uint64();
  else if (expected && expected->is_int64() && expected->get_int64() >= 0)
    request.expected_version = static_cast<std::uint64_t>(expected->get_int64());
  else return core::Error::invalid("request: \"expected_version\" must be a non-negative integer");
  auto record = record_field(*o, "record", "request");
  if (!record) return record.error();
  request.record = std::move(*record);
  return request;
}

std::string cas_request_json(const CasRequest& request) {
  return "{\"expected_version\":" + std::to_string(request.expected_version) +
         ",\"record\":" + to_json(request.record) + "}";
}

core::Result<Record> parse_conflict_reply(std::string_view body) {
  auto o = parse_object(body, "conflict reply");
  if (!o) return o.error();
  return record_field(*o, "current", "conflict reply");
}

std::string conflict_reply_json(const Record& current) { return "{\"current\":" + to_json(current) + "}"; }

}  // namespace failover::arbiter
