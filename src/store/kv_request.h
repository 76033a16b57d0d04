#pragma once
// The rules of the store's key-value HTTP API, without I/O: parsing a
// request into what to do, the precondition check, and building every reply
// (docs/store.md, "HTTP API"). The node driver routes "/kv/..." here,
// decides by role and state, and sends what these functions build.
//
// Plain C++ on net's request and response types, so the fuzz build links it.
// Every function is pure and thread-safe.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "net/http_server.h"
#include "store/text.h"  // is_valid_utf8, base64_encode

namespace failover::store {

// Keys at the HTTP door: 1..1024 bytes of valid UTF-8, no control
// characters, no "." or ".." path segment (a proxy or a curl user would
// normalise "/kv/a/../b" into another key). Stricter than the state's own
// limit (kv_state.h), which only keeps the reserved key space apart.
inline constexpr std::size_t kMaxHttpKeyBytes = 1024;
inline constexpr std::size_t kMaxHttpValueBytes = 64 * 1024 * 1024;  // larger: 413 (the log's own limit)
inline constexpr std::size_t kMaxHttpIdempotencyKeyBytes = 128;
inline constexpr std::size_t kDefaultListLimit = 100;
inline constexpr std::size_t kMaxListLimit = 1000;  // larger limits are cut to this

enum class KvMethod { kGet, kPut, kDelete, kList };

// If-Match and If-None-Match of a write. Both may be given; both must hold.
struct Precondition {
  std::optional<std::uint64_t> if_match{};  // If-Match: VERSION or "VERSION"
  bool if_match_any = false;              // If-Match: *        (the key exists)
  bool if_none_match_any = false;         // If-None-Match: *   (the key is absent)
  bool any() const { return if_match || if_match_any || if_none_match_any; }
  bool operator==(const Precondition&) const = default;
};

struct KvRequest {
  KvMethod method = KvMethod::kGet;
  std::string key;    // percent-decoded; empty for kList
  std::string value;  // kPut: the body as sent
  // Only for kPut and kDelete; GET ignores conditional headers.
  Precondition precondition;
  std::string idempotency_key;  // kPut and kDelete; "" when not sent
  bool stale = false;           // ?stale=1: a backup answers from its own state
  // kList
  std::string prefix;  // ?prefix=, decoded
  std::string after;   // ?after=, decoded: keys strictly after this one
  std::size_t limit = kDefaultListLimit;
};

// What parse_kv_request gives: the request to serve, or the reply that
// refuses it (400 bad key/header/query, 404 not a /kv/ path, 405 method,
// 413 value too large).
using KvParse = std::variant<KvRequest, net::HttpResponse>;

// Parses `PUT|GET|DELETE /kv/{key}` and `GET /kv/?prefix=P&limit=N&after=K`.
KvParse parse_kv_request(const net::HttpRequest& request);
// The same, with the body of an accepted PUT moved into its value instead of
// copied (it may be 64 MiB); the rest of `request` is left as it was.
KvParse parse_kv_request_taking_body(net::HttpRequest& request);

// Whether a write may go ahead, given the key's current version (nullopt:
// absent). If-Match fails when the key is absent or at another version;
// If-None-Match: * fails when it is present. A failed check is a 412.
bool precondition_holds(const Precondition& p, std::optional<std::uint64_t> current_version);

// The key rules above; "" when `key` is fine, else why not (for a 400).
std::string check_http_key(std::string_view key);

// ---- replies

// GET 200: the raw value, ETag: "VERSION".
net::HttpResponse value_reply(std::string value, std::uint64_t version);
// PUT/DELETE 200: {"key","version","epoch","seq"}, ETag: "VERSION", X-Epoch,
// X-Seq. For a delete, `version` is the version it removed.
net::HttpResponse write_reply(std::string_view key, std::uint64_t version, std::uint64_t epoch, std::uint64_t seq);
// 404 {"error":"no key K"}: GET or DELETE of an absent key.
net::HttpResponse not_found_reply(std::string_view key);
// 412 {"error":...}, with ETag of the current version when the key exists.
net::HttpResponse precondition_failed_reply(std::optional<std::uint64_t> current_version);
// 422 {"error":...}: an Idempotency-Key already used for another request.
net::HttpResponse idempotency_key_reused(std::string_view idempotency_key);

struct ListItem {
  std::string key;
  std::uint64_t version = 0;
  std::string value;
  // Set instead of `value` for a value of kLargeValueBytes or more: its
  // size; a page of them would be huge, GET each.
  std::optional<std::uint64_t> value_bytes{};
};
// 200 {"items":[{"key","version","value"}],"more":bool,"next":K|null}. A
// value that is not valid UTF-8 is given as "value_base64" instead, and a
// large one as "value_bytes" (its size) alone; `next` is the last key when
// more follow (pass it as ?after=), else null.
net::HttpResponse list_reply(const std::vector<ListItem>& items, bool more);

// 307 to the primary: Location: http://PRIMARY_LISTEN + the request's
// target as sent (path and query, encoding kept), X-Primary: NAME.
net::HttpResponse redirect_reply(std::string_view primary_name, std::string_view primary_listen,
                                 const net::HttpRequest& request);
// 503 {"error":reason}, Retry-After: 1, X-Reason: reason ("no primary",
// "lease expired", "backup out of sync", ...).
net::HttpResponse unavailable_reply(std::string_view reason);
// 507 {"error":reason}, X-Reason: reason: the disk is short of room; the
// write was refused before anything was done with it.
net::HttpResponse insufficient_storage_reply(std::string_view reason);


}  // namespace failover::store
