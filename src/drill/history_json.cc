#include "drill/history_json.h"

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <set>
#include <utility>

namespace failover::drill {

namespace json = boost::json;

namespace {

const char* outcome_name(Operation::Outcome o) {
  switch (o) {
    case Operation::Outcome::kOk: return "ok";
    case Operation::Outcome::kFailed: return "failed";
    case Operation::Outcome::kUnknown: return "unknown";
  }
  return "unknown";
}

double ms_since(core::TimePoint t, core::TimePoint t0) {
  return std::chrono::duration<double, std::milli>(t - t0).count();
}

// Up to ~285 years either way in ns: anything beyond is an error, not an overflow.
constexpr double kMaxMs = 9e12;

core::Result<core::TimePoint> time_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v || !(v->is_double() || v->is_int64() || v->is_uint64()))
    return core::Error::invalid(std::string(name) + " must be a number (ms)");
  const double ms = v->to_number<double>();
  if (!std::isfinite(ms) || std::fabs(ms) > kMaxMs)
    return core::Error::invalid(std::string(name) + " is out of range");
  return core::TimePoint(std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ms * 1e6))));
}

core::Result<std::string> string_field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (!v || !v->is_string()) return core::Error::invalid(std::string(name) + " must be a string");
  return std::string(v->as_string());
}

core::Result<Operation> operation_from(const json::value& line) {
  if (!line.is_object()) return core::Error::invalid("not a JSON object");
  const json::object& o = line.as_object();
  Operation op;
  auto kind = string_field(o, "op");
  if (!kind) return kind.error();
  if (*kind == "read") {
    op.kind = Operation::Kind::kRead;
  } else if (*kind == "write") {
    op.kind = Operation::Kind::kWrite;
  } else {
    return core::Error::invalid("op must be \"read\" or \"write\", not \"" + *kind + "\"");
  }
  auto key = string_field(o, "key");
  if (!key) return key.error();
  op.key = std::move(*key);
  const json::value* value = o.if_contains("value");
  if (value && value->is_string()) {
    op.value = std::string(value->as_string());
  } else if (!value || !value->is_null()) {
    return core::Error::invalid("value must be a string or null");
  }
  if (op.kind == Operation::Kind::kWrite && !op.value) return core::Error::invalid("a write needs a value");
  auto start = time_field(o, "start_ms");
  if (!start) return start.error();
  auto end = time_field(o, "end_ms");
  if (!end) return end.error();
  if (*end < *start) return core::Error::invalid("end_ms is before start_ms");
  op.start = *start;
  op.end = *end;
  auto outcome = string_field(o, "outcome");
  if (!outcome) return outcome.error();
  if (*outcome == "ok") {
    op.outcome = Operation::Outcome::kOk;
  } else if (*outcome == "failed") {
    op.outcome = Operation::Outcome::kFailed;
  } else if (*outcome == "unknown") {
    op.outcome = Operation::Outcome::kUnknown;
  } else {
    return core::Error::invalid("outcome must be ok, failed or unknown, not \"" + *outcome + "\"");
  }
  if (const json::value* client = o.if_contains("client"); client && client->is_string())
    op.client = std::string(client->as_string());
  return op;
}

}  // namespace

std::string history_to_json_lines(const std::vector<Operation>& history, core::TimePoint t0) {
  std::string out;
  for (const Operation& op : history) {
    const json::object o{{"client", op.client},
                         {"op", op.kind == Operation::Kind::kRead ? "read" : "write"},
                         {"key", op.key},
                         {"value", op.value ? json::value(*op.value) : json::value(nullptr)},
                         {"start_ms", ms_since(op.start, t0)},
                         {"end_ms", ms_since(op.end, t0)},
                         {"outcome", outcome_name(op.outcome)}};
    out += json::serialize(o) + "\n";
  }
  return out;
}

core::Result<std::vector<Operation>> history_from_json_lines(std::string_view text, std::string_view source) {
  std::vector<Operation> history;
  // A value names its write (history.h): two writes of one value to one key
  // would make the check meaningless.
  std::set<std::pair<std::string, std::string>> written;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    core::Result<Operation> op = ec ? core::Result<Operation>(core::Error::invalid("not JSON: " + ec.message()))
                                    : operation_from(v);
    if (op && op->kind == Operation::Kind::kWrite && !written.emplace(op->key, *op->value).second)
      op = core::Error::invalid("key \"" + op->key + "\": the value \"" + *op->value +
                                "\" is written twice (each write must write a value of its own)");
    if (!op) return core::Error::invalid(std::string(source) + ":" + std::to_string(line_no) + ": " + op.error().message);
    history.push_back(std::move(*op));
  }
  return history;
}

}  // namespace failover::drill
