#include "etcd/codec.h"

#include <array>
#include <charconv>
#include <exception>
#include <limits>

#include <boost/json.hpp>

namespace failover::etcd {

namespace json = boost::json;

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<signed char, 256> make_inverse() {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  return t;
}
constexpr auto kInverse = make_inverse();

// ---- request building: every value we write is base64, a decimal or a
// literal, so no JSON escaping is needed.

void append_int(std::string& out, std::int64_t v) {
  // int64 as a JSON string, as the gateway writes them (and takes them).
  out += '"';
  out += std::to_string(v);
  out += '"';
}

void append_b64(std::string& out, std::string_view bytes) {
  out += '"';
  out += base64_encode(bytes);
  out += '"';
}

// ---- reply parsing

Error bad(std::string what) { return Error::invalid("bad etcd reply: " + std::move(what)); }

// Parses one JSON object. Err for anything else.
Result<json::object> parse_object(std::string_view text) {
  json::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return bad("not JSON: " + ec.message());
  if (!v.is_object()) return bad("not a JSON object");
  return std::move(v.as_object());
}

// int64 fields: a JSON string of decimal digits (the gateway's way) or a
// JSON integer. Absent: `out` keeps its value. False on anything else.
bool get_uint(const json::object& o, std::string_view key, std::uint64_t& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (v->is_uint64()) {
    out = v->get_uint64();
    return true;
  }
  if (v->is_int64()) {
    if (v->get_int64() < 0) return false;
    out = static_cast<std::uint64_t>(v->get_int64());
    return true;
  }
  if (v->is_string()) {
    const json::string& s = v->get_string();
    if (s.empty()) return false;
    std::uint64_t r = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), r);
    if (ec != std::errc() || p != s.data() + s.size()) return false;
    out = r;
    return true;
  }
  return false;
}

bool get_bool(const json::object& o, std::string_view key, bool& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_bool()) return false;
  out = v->get_bool();
  return true;
}

bool get_string(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

// A base64 field, decoded.
bool get_bytes(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_string()) return false;
  auto decoded = base64_decode(std::string_view(v->get_string().data(), v->get_string().size()));
  if (!decoded) return false;
  out = std::move(*decoded);
  return true;
}

// An optional sub-object: nullptr when absent, `ok` false when not an object.
const json::object* get_object(const json::object& o, std::string_view key, bool& ok) {
  const json::value* v = o.if_contains(key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    ok = false;
    return nullptr;
  }
  return &v->get_object();
}

const json::array* get_array(const json::object& o, std::string_view key, bool& ok) {
  const json::value* v = o.if_contains(key);
  if (!v) return nullptr;
  if (!v->is_array()) {
    ok = false;
    return nullptr;
  }
  return &v->get_array();
}

bool read_header(const json::object& o, Header& h) {
  bool ok = true;
  const json::object* ho = get_object(o, "header", ok);
  if (!ok) return false;
  if (!ho) return true;
  return json_int(*ho, "revision", h.revision) && get_uint(*ho, "cluster_id", h.cluster_id) &&
         get_uint(*ho, "member_id", h.member_id) && get_uint(*ho, "raft_term", h.raft_term);
}

bool read_kv(const json::value& v, KeyValue& kv) {
  if (!v.is_object()) return false;
  const json::object& o = v.get_object();
  return get_bytes(o, "key", kv.key) && get_bytes(o, "value", kv.value) &&
         json_int(o, "create_revision", kv.create_revision) &&
         json_int(o, "mod_revision", kv.mod_revision) && json_int(o, "version", kv.version) &&
         json_int(o, "lease", kv.lease);
}

bool read_kvs(const json::object& o, std::string_view key, std::vector<KeyValue>& out) {
  bool ok = true;
  const json::array* a = get_array(o, key, ok);
  if (!ok) return false;
  if (!a) return true;
  out.reserve(a->size());
  for (const json::value& v : *a) {
    KeyValue kv;
    if (!read_kv(v, kv)) return false;
    out.push_back(std::move(kv));
  }
  return true;
}

std::optional<Error> error_of(const json::object& o) {
  const json::value* e = o.if_contains("error");
  if (!e) return std::nullopt;
  std::string message;
  std::int64_t code = 0;
  if (e->is_string()) {
    // Unary: {"error":"msg","message":"msg","code":5}
    message.assign(e->get_string().data(), e->get_string().size());
    std::string better;
    if (get_string(o, "message", better) && !better.empty()) message = std::move(better);
    if (!json_int(o, "code", code)) code = 0;
  } else if (e->is_object()) {
    // In a stream: {"error":{"grpc_code":14,"http_code":503,"message":"...","http_status":"..."}}
    const json::object& eo = e->get_object();
    if (!get_string(eo, "message", message)) message.clear();
    if (!json_int(eo, "grpc_code", code)) code = 0;
  } else {
    message = "error of unknown shape";
  }
  if (message.empty()) message = "etcd error";
  return error_from_grpc((code >= 0 && code <= 1000) ? static_cast<int>(code) : 0, std::move(message));
}

// A reply body: the object itself, or Err for garbage or an etcd error.
Result<json::object> reply_object(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o;
  if (auto e = error_of(*o)) return *e;
  return o;
}

// A stream message: the object inside {"result":...}, or the bare object.
Result<json::object> stream_object(std::string_view message) {
  auto o = reply_object(message);
  if (!o) return o;
  if (const json::value* r = o->if_contains("result")) {
    if (!r->is_object()) return bad("result is not an object");
    return json::object(r->get_object());
  }
  return o;
}

template <class F>
auto guarded(F&& f) -> decltype(f()) {
  // Boost.JSON and std::string allocate; nothing else throws. Keep even
  // bad_alloc from escaping a parser.
  try {
    return f();
  } catch (const std::exception& e) {
    return Error::internal(std::string("etcd codec: ") + e.what());
  } catch (...) {
    return Error::internal("etcd codec: unknown exception");
  }
}

Result<LeaseKeepAlive> keepalive_from(const json::object& o) {
  LeaseKeepAlive r;
  if (!read_header(o, r.header) || !json_int(o, "ID", r.id) || !json_int(o, "TTL", r.ttl))
    return bad("keepalive reply has a field of the wrong type");
  if (r.ttl < 0) r.ttl = 0;
  return r;
}


}  // namespace

bool json_int(const json::object& o, std::string_view key, std::int64_t& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (v->is_int64()) {
    out = v->get_int64();
    return true;
  }
  if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return false;
    out = static_cast<std::int64_t>(v->get_uint64());
    return true;
  }
  if (v->is_string()) {
    const json::string& s = v->get_string();
    if (s.empty()) return false;
    std::int64_t r = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), r);
    if (ec != std::errc() || p != s.data() + s.size()) return false;
    out = r;
    return true;
  }
  return false;
}


Error error_from_grpc(int grpc_code, std::string message) {
  ErrorCode code = ErrorCode::kInternal;
  switch (grpc_code) {
    case 4: code = ErrorCode::kTimeout; break;
    case 14: code = ErrorCode::kUnavailable; break;
    case 5: code = ErrorCode::kNotFound; break;
    case 6: case 9: case 10: code = ErrorCode::kConflict; break;
    case 3: case 11: code = ErrorCode::kInvalid; break;
    case 7: case 16: code = ErrorCode::kUnauthorized; break;
    default: break;
  }
  if (grpc_code != 0) message += " (grpc " + std::to_string(grpc_code) + ")";
  return Error{code, std::move(message)};
}

// ---------------------------------------------------------------- base64

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n - i == 1) {
    std::uint32_t v = p[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (n - i == 2) {
    std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    std::uint32_t v = 0;
    for (int j = 0; j < 4 - pad; ++j) {
      signed char d = kInverse[static_cast<unsigned char>(text[i + j])];
      if (d < 0) return std::nullopt;  // includes '=' anywhere but the end
      v |= static_cast<std::uint32_t>(d) << (18 - 6 * j);
    }
    out += static_cast<char>((v >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(v & 0xff);
  }
  return out;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c < 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

// ---------------------------------------------------------------- requests

std::string lease_grant_request(std::int64_t ttl_seconds, LeaseId id) {
  std::string out = "{\"TTL\":";
  append_int(out, ttl_seconds);
  if (id != 0) {
    out += ",\"ID\":";
    append_int(out, id);
  }
  out += '}';
  return out;
}

std::string lease_keepalive_request(LeaseId id) {
  std::string out = "{\"ID\":";
  append_int(out, id);
  out += '}';
  return out;
}

std::string lease_keepalive_request(const std::vector<LeaseId>& ids) {
  std::string out;
  out.reserve(ids.size() * 30);
  for (LeaseId id : ids) out += lease_keepalive_request(id);
  return out;
}

std::string lease_revoke_request(LeaseId id) { return lease_keepalive_request(id); }

std::string lease_timetolive_request(LeaseId id, bool keys) {
  std::string out = "{\"ID\":";
  append_int(out, id);
  if (keys) out += ",\"keys\":true";
  out += '}';
  return out;
}

namespace {
void append_put_fields(std::string& out, std::string_view key, std::string_view value,
                       LeaseId lease) {
  out += "\"key\":";
  append_b64(out, key);
  out += ",\"value\":";
  append_b64(out, value);
  if (lease != 0) {
    out += ",\"lease\":";
    append_int(out, lease);
  }
}
void append_delete_fields(std::string& out, std::string_view key, bool prefix) {
  out += "\"key\":";
  append_b64(out, key);
  if (prefix) {
    out += ",\"range_end\":";
    append_b64(out, prefix_range_end(key));
  }
}
}  // namespace

std::string put_request(std::string_view key, std::string_view value, LeaseId lease,
                        bool prev_kv) {
  std::string out = "{";
  append_put_fields(out, key, value, lease);
  if (prev_kv) out += ",\"prev_kv\":true";
  out += '}';
  return out;
}

std::string range_prefix_request(std::string_view prefix, Revision revision) {
  std::string out = "{";
  append_delete_fields(out, prefix, true);
  if (revision != 0) {
    out += ",\"revision\":";
    append_int(out, revision);
  }
  out += '}';
  return out;
}

std::string range_key_request(std::string_view key) {
  std::string out = "{";
  append_delete_fields(out, key, false);
  out += '}';
  return out;
}

std::string delete_range_request(std::string_view key, bool prefix) {
  std::string out = "{";
  append_delete_fields(out, key, prefix);
  out += '}';
  return out;
}

std::string txn_request(const std::vector<TxnOp>& ops) {
  std::string out = "{\"success\":[";
  bool first = true;
  for (const TxnOp& op : ops) {
    if (!first) out += ',';
    first = false;
    if (op.kind == TxnOp::Kind::kPut) {
      out += "{\"request_put\":{";
      append_put_fields(out, op.key, op.value, op.lease);
    } else {
      out += "{\"request_delete_range\":{";
      append_delete_fields(out, op.key, op.prefix);
    }
    out += "}}";
  }
  out += "]}";
  return out;
}

std::string cas_put_request(std::string_view key, std::string_view value,
                            Revision expected_mod_revision, LeaseId lease) {
  std::string out = "{\"compare\":[{\"key\":";
  append_b64(out, key);
  out += ",\"target\":\"MOD\",\"result\":\"EQUAL\",\"mod_revision\":";
  append_int(out, expected_mod_revision);
  out += "}],\"success\":[{\"request_put\":{";
  append_put_fields(out, key, value, lease);
  out += "}}],\"failure\":[{\"request_range\":{";
  append_delete_fields(out, key, false);
  out += "}}]}";
  return out;
}

std::string watch_create_request(std::string_view prefix, Revision start_revision, bool prev_kv,
                                 bool progress_notify) {
  std::string out = "{\"create_request\":{";
  append_delete_fields(out, prefix, true);
  if (start_revision != 0) {
    out += ",\"start_revision\":";
    append_int(out, start_revision);
  }
  if (prev_kv) out += ",\"prev_kv\":true";
  if (progress_notify) out += ",\"progress_notify\":true";
  out += "}}";
  return out;
}

// ---------------------------------------------------------------- replies

std::optional<Error> parse_error(std::string_view body) {
  try {
    auto o = parse_object(body);
    if (!o) return std::nullopt;
    return error_of(*o);
  } catch (...) {
    return std::nullopt;
  }
}

Result<LeaseGrant> parse_lease_grant(std::string_view body) {
  return guarded([&]() -> Result<LeaseGrant> {
    auto o = reply_object(body);
    if (!o) return o.error();
    LeaseGrant r;
    if (!read_header(*o, r.header) || !json_int(*o, "ID", r.id) || !json_int(*o, "TTL", r.ttl))
      return bad("grant reply has a field of the wrong type");
    if (r.id == 0) return bad("grant reply without a lease ID");
    if (r.ttl <= 0) return bad("grant reply without a TTL");
    return r;
  });
}

Result<LeaseKeepAlive> parse_lease_keepalive(std::string_view message) {
  return guarded([&]() -> Result<LeaseKeepAlive> {
    auto o = stream_object(message);
    if (!o) return o.error();
    return keepalive_from(*o);
  });
}

Result<std::vector<LeaseKeepAlive>> parse_lease_keepalive_body(std::string_view body) {
  return guarded([&]() -> Result<std::vector<LeaseKeepAlive>> {
    std::vector<LeaseKeepAlive> out;
    std::size_t pos = 0;
    while (pos < body.size()) {
      std::size_t nl = body.find('\n', pos);
      if (nl == std::string_view::npos) nl = body.size();
      std::string_view line = body.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      auto r = parse_lease_keepalive(line);
      if (!r) return r.error();
      out.push_back(std::move(*r));
    }
    return out;
  });
}

Result<LeaseTimeToLive> parse_lease_timetolive(std::string_view body) {
  return guarded([&]() -> Result<LeaseTimeToLive> {
    auto o = reply_object(body);
    if (!o) return o.error();
    LeaseTimeToLive r;
    r.ttl = 0;  // absent TTL is 0 (expiring now); etcd says -1 for an unknown lease
    if (!read_header(*o, r.header) || !json_int(*o, "ID", r.id) || !json_int(*o, "TTL", r.ttl) ||
        !json_int(*o, "grantedTTL", r.granted_ttl))
      return bad("timetolive reply has a field of the wrong type");
    bool ok = true;
    if (const json::array* keys = get_array(*o, "keys", ok)) {
      for (const json::value& k : *keys) {
        if (!k.is_string()) return bad("timetolive key is not a string");
        auto d = base64_decode(std::string_view(k.get_string().data(), k.get_string().size()));
        if (!d) return bad("timetolive key is not base64");
        r.keys.push_back(std::move(*d));
      }
    }
    if (!ok) return bad("timetolive keys is not an array");
    return r;
  });
}

Result<WriteReply> parse_write_reply(std::string_view body) {
  return guarded([&]() -> Result<WriteReply> {
    auto o = reply_object(body);
    if (!o) return o.error();
    WriteReply r;
    if (!read_header(*o, r.header) || !json_int(*o, "deleted", r.deleted) ||
        !get_bool(*o, "succeeded", r.succeeded) || !read_kvs(*o, "prev_kvs", r.prev_kvs))
      return bad("write reply has a field of the wrong type");
    if (const json::value* p = o->if_contains("prev_kv")) {
      KeyValue kv;
      if (!read_kv(*p, kv)) return bad("prev_kv is not a key-value");
      r.prev_kv = std::move(kv);
    }
    return r;
  });
}

Result<TxnReply> parse_txn_reply(std::string_view body) {
  return guarded([&]() -> Result<TxnReply> {
    auto o = reply_object(body);
    if (!o) return o.error();
    TxnReply r;
    if (!read_header(*o, r.header) || !get_bool(*o, "succeeded", r.succeeded))
      return bad("txn reply has a field of the wrong type");
    bool ok = true;
    const json::array* responses = get_array(*o, "responses", ok);
    if (!ok) return bad("txn responses is not an array");
    if (responses) {
      for (const json::value& v : *responses) {
        if (!v.is_object()) return bad("txn response is not an object");
        const json::value* range = v.get_object().if_contains("response_range");
        if (!range) continue;  // puts and deletes: their revision is the header's
        if (!range->is_object() || !read_kvs(range->get_object(), "kvs", r.range_kvs))
          return bad("txn response_range is not a range reply");
      }
    }
    return r;
  });
}

Result<RangeReply> parse_range(std::string_view body) {
  return guarded([&]() -> Result<RangeReply> {
    auto o = reply_object(body);
    if (!o) return o.error();
    RangeReply r;
    if (!read_header(*o, r.header) || !get_bool(*o, "more", r.more) ||
        !json_int(*o, "count", r.count) || !read_kvs(*o, "kvs", r.kvs))
      return bad("range reply has a field of the wrong type");
    return r;
  });
}

Result<WatchMessage> parse_watch_message(std::string_view message) {
  return guarded([&]() -> Result<WatchMessage> {
    auto o = stream_object(message);
    if (!o) return o.error();
    WatchMessage r;
    if (!read_header(*o, r.header) || !json_int(*o, "watch_id", r.watch_id) ||
        !get_bool(*o, "created", r.created) || !get_bool(*o, "canceled", r.canceled) ||
        !json_int(*o, "compact_revision", r.compact_revision) ||
        !get_string(*o, "cancel_reason", r.cancel_reason))
      return bad("watch message has a field of the wrong type");
    bool ok = true;
    const json::array* events = get_array(*o, "events", ok);
    if (!ok) return bad("watch events is not an array");
    if (events) {
      r.events.reserve(events->size());
      for (const json::value& ev : *events) {
        if (!ev.is_object()) return bad("watch event is not an object");
        const json::object& eo = ev.get_object();
        Event e;
        if (const json::value* t = eo.if_contains("type")) {
          // Names, as the gateway writes enums; numbers too.
          if (t->is_string() && t->get_string() == "PUT") e.type = Event::Type::kPut;
          else if (t->is_string() && t->get_string() == "DELETE") e.type = Event::Type::kDelete;
          else if (t->is_int64() && t->get_int64() == 0) e.type = Event::Type::kPut;
          else if (t->is_int64() && t->get_int64() == 1) e.type = Event::Type::kDelete;
          else return bad("watch event of unknown type");
        }
        const json::value* kv = eo.if_contains("kv");
        if (!kv || !read_kv(*kv, e.kv)) return bad("watch event without a key-value");
        if (const json::value* p = eo.if_contains("prev_kv")) {
          KeyValue prev;
          if (!read_kv(*p, prev)) return bad("watch event prev_kv is not a key-value");
          e.prev_kv = std::move(prev);
        }
        r.events.push_back(std::move(e));
      }
    }
    return r;
  });
}

std::vector<std::string> take_stream_messages(std::string& buffer, std::string_view received) {
  std::vector<std::string> out;
  buffer.append(received);
  std::size_t pos = 0;
  for (;;) {
    std::size_t nl = buffer.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(buffer.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) out.emplace_back(line);
    pos = nl + 1;
  }
  buffer.erase(0, pos);
  return out;
}

}  // namespace failover::etcd
