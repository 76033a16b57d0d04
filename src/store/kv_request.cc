#include "store/kv_request.h"

#include <charconv>

#include "net/json_quote.h"
#include "net/url.h"

// This file must not call what net/http_server.cc defines (HttpRequest::header,
// HttpResponse::json, ...): the fuzz build links the parsers without the
// server, whose coroutines clang 14 cannot instrument.

namespace failover::store {

namespace {

constexpr std::string_view kPrefix = "/kv/";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The first header named `name`, and whether there was one.
std::optional<std::string_view> find_header(const net::HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 20) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

net::HttpResponse json_reply(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

net::HttpResponse error_reply(int status, std::string_view message) {
  return json_reply(status, "{\"error\":" + net::json_quote(message) + "}");
}

void append_number(std::string& out, std::string_view label, std::uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out += label;
  out.append(digits, end);
}

// Appended piece by piece: GCC 12 at -O3 warns falsely (-Wstringop-overflow)
// on "\"" + std::to_string(v).
std::string etag(std::uint64_t version) {
  std::string tag(1, '"');
  tag += std::to_string(version);
  tag += '"';
  return tag;
}

// If-Match: "7", 7 or *. Lists of ETags are refused: a key has one version.
std::optional<std::string> parse_if_match(std::string_view v, Precondition& p) {
  v = trim(v);
  if (v == "*") {
    p.if_match_any = true;
    return std::nullopt;
  }
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  auto version = parse_u64(v);
  if (!version) return "If-Match must be a version (7 or \"7\") or *";
  p.if_match = *version;
  return std::nullopt;
}

std::optional<std::string> parse_idempotency_key(std::string_view v, std::string& out) {
  if (v.empty() || v.size() > kMaxHttpIdempotencyKeyBytes)
    return "Idempotency-Key must be 1.." + std::to_string(kMaxHttpIdempotencyKeyBytes) + " characters";
  for (char c : v)
    if (c < 0x21 || c > 0x7e) return "Idempotency-Key must be printable ASCII without spaces";
  out = std::string(v);
  return std::nullopt;
}

// The write headers of PUT and DELETE into `r`; an error message or nullopt.
std::optional<std::string> parse_write_headers(const net::HttpRequest& in, KvRequest& r) {
  if (auto v = find_header(in, "If-Match"))
    if (auto bad = parse_if_match(*v, r.precondition)) return bad;
  if (auto v = find_header(in, "If-None-Match")) {
    if (trim(*v) != "*") return "If-None-Match must be * (create only)";
    r.precondition.if_none_match_any = true;
  }
  if (auto v = find_header(in, "Idempotency-Key"))
    if (auto bad = parse_idempotency_key(*v, r.idempotency_key)) return bad;
  return std::nullopt;
}

// ?prefix=&after=&limit= of a list; an error message or nullopt.
std::optional<std::string> parse_list_query(std::string_view query, KvRequest& r) {
  for (const auto& [name, raw] : net::split_query(query)) {
    if (name != "prefix" && name != "after" && name != "limit") continue;
    auto value = net::percent_decode(raw);
    if (!value) return "bad percent-encoding in ?" + std::string(name);
    if (name == "prefix") {
      r.prefix = std::move(*value);
    } else if (name == "after") {
      r.after = std::move(*value);
    } else {
      auto n = parse_u64(*value);
      if (!n || *n == 0) return "?limit must be a positive integer";
      r.limit = std::min<std::uint64_t>(*n, kMaxListLimit);
    }
  }
  if (r.prefix.size() > kMaxHttpKeyBytes || r.after.size() > kMaxHttpKeyBytes)
    return "?prefix and ?after are at most " + std::to_string(kMaxHttpKeyBytes) + " bytes";
  return std::nullopt;
}

bool stale_requested(std::string_view query) {
  for (const auto& [name, value] : net::split_query(query))
    if (name == "stale") return value == "1" || value == "true";
  return false;
}

}  // namespace

std::string check_http_key(std::string_view key) {
  if (key.empty()) return "the key is empty";
  if (key.size() > kMaxHttpKeyBytes) return "the key is over " + std::to_string(kMaxHttpKeyBytes) + " bytes";
  for (char c : key)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "the key has a control character";
  if (!is_valid_utf8(key)) return "the key is not valid UTF-8";
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = key.find('/', start);
    const std::string_view segment = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (segment == "." || segment == "..") return "the key has a \".\" or \"..\" segment";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

namespace {

KvParse parse(const net::HttpRequest& in, std::string* body_to_take) {
  if (!std::string_view(in.path).starts_with(kPrefix)) return error_reply(404, "not a /kv/ path");
  KvRequest r;
  const std::string_view raw_key = std::string_view(in.path).substr(kPrefix.size());
  if (raw_key.empty()) {
    if (in.method != "GET") {
      net::HttpResponse refused = error_reply(405, "/kv/ only lists keys: use GET");
      refused.headers.emplace_back("Allow", "GET");
      return refused;
    }
    r.method = KvMethod::kList;
    if (auto bad = parse_list_query(in.query, r)) return error_reply(400, *bad);
    return r;
  }
  if (in.method == "GET") {
    r.method = KvMethod::kGet;
  } else if (in.method == "PUT") {
    r.method = KvMethod::kPut;
  } else if (in.method == "DELETE") {
    r.method = KvMethod::kDelete;
  } else {
    net::HttpResponse refused = error_reply(405, "a key takes GET, PUT or DELETE");  // the method is not echoed: it may not be UTF-8
    refused.headers.emplace_back("Allow", "GET, PUT, DELETE");
    return refused;
  }
  auto key = net::percent_decode(raw_key);
  if (!key) return error_reply(400, "bad percent-encoding in the key");
  if (auto why = check_http_key(*key); !why.empty()) return error_reply(400, why);
  r.key = std::move(*key);
  r.stale = stale_requested(in.query);
  if (r.method == KvMethod::kGet) return r;
  if (auto bad = parse_write_headers(in, r)) return error_reply(400, *bad);
  if (r.method == KvMethod::kPut) {
    if (in.body.size() > kMaxHttpValueBytes)
      return error_reply(413, "the value is over " + std::to_string(kMaxHttpValueBytes) + " bytes");
    // Not a ?: of the two, whose common type is a const copy.
    if (body_to_take) r.value = std::move(*body_to_take);
    else r.value = in.body;
  }
  return r;
}

}  // namespace

KvParse parse_kv_request(const net::HttpRequest& in) { return parse(in, nullptr); }

KvParse parse_kv_request_taking_body(net::HttpRequest& in) { return parse(in, &in.body); }

bool precondition_holds(const Precondition& p, std::optional<std::uint64_t> current_version) {
  if (p.if_match && current_version != p.if_match) return false;
  if (p.if_match_any && !current_version) return false;
  if (p.if_none_match_any && current_version) return false;
  return true;
}

net::HttpResponse value_reply(std::string value, std::uint64_t version) {
  net::HttpResponse r;
  r.status = 200;
  r.content_type = "application/octet-stream";
  r.body = std::move(value);
  r.headers.emplace_back("ETag", etag(version));
  return r;
}

// The reply to every acknowledged write, so built in one buffer: string
// concatenation cost seven allocations a write on the primary (perf).
net::HttpResponse write_reply(std::string_view key, std::uint64_t version, std::uint64_t epoch, std::uint64_t seq) {
  net::HttpResponse r;
  r.body.reserve(64 + key.size());
  r.body += "{\"key\":";
  r.body += net::json_quote(key);
  append_number(r.body, ",\"version\":", version);
  append_number(r.body, ",\"epoch\":", epoch);
  append_number(r.body, ",\"seq\":", seq);
  r.body += '}';
  r.headers.reserve(3);
  r.headers.emplace_back("ETag", etag(version));
  r.headers.emplace_back("X-Epoch", std::to_string(epoch));
  r.headers.emplace_back("X-Seq", std::to_string(seq));
  return r;
}

net::HttpResponse not_found_reply(std::string_view key) { return error_reply(404, "no key " + std::string(key)); }

net::HttpResponse precondition_failed_reply(std::optional<std::uint64_t> current_version) {
  net::HttpResponse r = error_reply(
      412, current_version ? "the key is at version " + std::to_string(*current_version) : "the key does not exist");
  if (current_version) r.headers.emplace_back("ETag", etag(*current_version));
  return r;
}

net::HttpResponse idempotency_key_reused(std::string_view idempotency_key) {
  return error_reply(422, "Idempotency-Key " + std::string(idempotency_key) +
                              " was used for another request (another method, key or value); a retry must repeat "
                              "the request, and a new request needs a new key");
}

net::HttpResponse list_reply(const std::vector<ListItem>& items, bool more) {
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ListItem& item = items[i];
    body += i ? ",{" : "{";
    body += "\"key\":" + net::json_quote(item.key) + ",\"version\":" + std::to_string(item.version);
    // JSON strings are Unicode: bytes that are not UTF-8 cannot be one.
    if (item.value_bytes)
      body += ",\"value_bytes\":" + std::to_string(*item.value_bytes) + "}";
    else if (is_valid_utf8(item.value))
      body += ",\"value\":" + net::json_quote(item.value) + "}";
    else
      body += ",\"value_base64\":\"" + base64_encode(item.value) + "\"}";
  }
  body += "],\"more\":";
  body += more ? "true" : "false";
  body += ",\"next\":";
  body += more && !items.empty() ? net::json_quote(items.back().key) : "null";
  body += "}";
  return json_reply(200, std::move(body));
}

net::HttpResponse redirect_reply(std::string_view primary_name, std::string_view primary_listen,
                                 const net::HttpRequest& request) {
  net::HttpResponse r = error_reply(307, "the primary is " + std::string(primary_name));
  r.headers.emplace_back("Location", "http://" + std::string(primary_listen) + request.target);
  r.headers.emplace_back("X-Primary", std::string(primary_name));
  return r;
}

net::HttpResponse unavailable_reply(std::string_view reason) {
  net::HttpResponse r = error_reply(503, reason);
  r.headers.emplace_back("Retry-After", "1");
  r.headers.emplace_back("X-Reason", std::string(reason));
  return r;
}

net::HttpResponse insufficient_storage_reply(std::string_view reason) {
  net::HttpResponse r = error_reply(507, reason);
  r.headers.emplace_back("X-Reason", std::string(reason));
  return r;
}

}  // namespace failover::store
