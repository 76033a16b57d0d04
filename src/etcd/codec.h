#pragma once
// etcd v3 JSON gateway (grpc-gateway) codec: request bodies to send and
// parsers for the replies (the client is etcd/client.h; the registry's key
// layout is registry/etcd_keys.h). Pure: no
// I/O, no clock, no Asio, so a libFuzzer target can link it alone. Every
// parser takes untrusted bytes and returns an Error value for anything it
// does not understand; no exception escapes.
//
// What the gateway of etcd 3.4.23 (Debian bookworm's etcd-server) does, found
// by experiment on loopback:
// - POST http://HOST:PORT/v3/... (also /v3beta/ in 3.4, gone in 3.5), JSON
//   both ways; key, value and range_end are standard padded base64;
// - int64 fields come as JSON strings ("ID":"4111120228490140165") and are
//   taken as strings or numbers both ways; fields at their default (0, false,
//   "", event type PUT, a dead lease's TTL) are left out of replies;
// - a lease's TTL is raised to etcd's minimum, ceil(1.5 x election timeout):
//   2 s with default flags; a lease lives TTL .. TTL + 0.5 s (500 ms expiry
//   loop); a restart or leader change renews every lease to its full TTL;
// - /v3/lease/keepalive and /v3/watch reply chunked, one {"result":{...}}
//   and "\n" per message; an error inside a stream is
//   {"error":{"grpc_code":14,"http_code":503,"message":"..."}}, a unary error
//   {"error":"...","message":"...","code":5}. One keepalive request body may
//   hold many {"ID":...} objects: one reply line each, in order (20x cheaper
//   in etcd CPU than one request per lease).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"

namespace boost::json {
class object;
}

namespace failover::etcd {

// Reads the integer `key` of `o` into `out`: a JSON integer or a string of
// decimal digits (the gateway writes int64 as strings). True when it is
// absent too (`out` unchanged); false when it is there but no int64.
bool json_int(const boost::json::object& o, std::string_view key, std::int64_t& out);

// The gateway paths (POST).
inline constexpr std::string_view kLeaseGrantPath = "/v3/lease/grant";
inline constexpr std::string_view kLeaseKeepAlivePath = "/v3/lease/keepalive";
inline constexpr std::string_view kLeaseRevokePath = "/v3/lease/revoke";
inline constexpr std::string_view kLeaseTimeToLivePath = "/v3/lease/timetolive";
inline constexpr std::string_view kPutPath = "/v3/kv/put";
inline constexpr std::string_view kRangePath = "/v3/kv/range";
inline constexpr std::string_view kDeleteRangePath = "/v3/kv/deleterange";
inline constexpr std::string_view kTxnPath = "/v3/kv/txn";
inline constexpr std::string_view kWatchPath = "/v3/watch";

using LeaseId = std::int64_t;   // 0: no lease
using Revision = std::int64_t;

// A reply etcd (or garbage) gave that we cannot use is a core::Error:
// kInvalid for bytes that are not the reply promised; for an error etcd sent,
// its gRPC status mapped by error_from_grpc() (the number stays in the
// message: "etcdserver: requested lease not found (grpc 5)").
using core::Error;
using core::ErrorCode;
using core::Result;

// gRPC status code -> ErrorCode: 4 kTimeout; 14 kUnavailable; 5 kNotFound;
// 6, 9, 10 kConflict (already exists, failed precondition, aborted);
// 3, 11 kInvalid (11: a compacted revision); 7, 16 kUnauthorized; the rest
// kInternal.
Error error_from_grpc(int grpc_code, std::string message);

// ---------------------------------------------------------------- base64

std::string base64_encode(std::string_view bytes);
// Standard alphabet; padding required (as etcd sends); nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);

// The range_end that, with key = prefix, covers every key starting with
// prefix: the prefix with its last byte below 0xff incremented and what
// follows dropped; "\0" (every key) when there is none, as clientv3 does.
std::string prefix_range_end(std::string_view prefix);

// ---------------------------------------------------------------- requests
// Each returns the JSON body for the path named above it.

// /v3/lease/grant. ttl in seconds; id 0 lets etcd choose.
std::string lease_grant_request(std::int64_t ttl_seconds, LeaseId id = 0);
// /v3/lease/keepalive: one lease, or many in one body (one reply line each,
// in the same order; an empty list gives an empty body, which etcd answers
// with an empty reply).
std::string lease_keepalive_request(LeaseId id);
std::string lease_keepalive_request(const std::vector<LeaseId>& ids);
// /v3/lease/revoke
std::string lease_revoke_request(LeaseId id);
// /v3/lease/timetolive
std::string lease_timetolive_request(LeaseId id, bool keys = false);
// /v3/kv/put. lease 0: none. prev_kv asks for the replaced pair.
std::string put_request(std::string_view key, std::string_view value, LeaseId lease = 0,
                        bool prev_kv = false);
// /v3/kv/range over every key under prefix (at revision, 0: latest).
std::string range_prefix_request(std::string_view prefix, Revision revision = 0);
// /v3/kv/range of one key: its value with its mod_revision (the revision to
// pass to cas_put_request), or no kv when the key does not exist.
std::string range_key_request(std::string_view key);
// /v3/kv/deleterange of one key, or of every key under it with prefix = true.
std::string delete_range_request(std::string_view key, bool prefix = false);
// /v3/kv/txn with no compare: every op runs, at one revision.
struct TxnOp {
  enum class Kind { kPut, kDelete } kind = Kind::kPut;
  std::string key;
  std::string value;  // kPut
  LeaseId lease = 0;  // kPut
  bool prefix = false;  // kDelete: every key under `key`
};
std::string txn_request(const std::vector<TxnOp>& ops);
// /v3/kv/txn, a compare-and-set: put `value` at `key` only if the key's
// mod_revision is still `expected_mod_revision`; otherwise read the key, so
// a failed CAS's reply says what the key holds now (parse_txn_reply).
// expected 0 means "only if the key does not exist": etcd compares a missing
// key as all zeros. lease 0: none.
std::string cas_put_request(std::string_view key, std::string_view value,
                            Revision expected_mod_revision, LeaseId lease = 0);
// /v3/watch: create a watch on every key under prefix, from start_revision
// (0: from now on). prev_kv: DELETE events carry the deleted value.
std::string watch_create_request(std::string_view prefix, Revision start_revision,
                                 bool prev_kv = false, bool progress_notify = false);

// ---------------------------------------------------------------- replies

struct Header {
  Revision revision = 0;
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;
  std::uint64_t raft_term = 0;
};

struct KeyValue {
  std::string key;       // decoded bytes
  std::string value;     // decoded bytes
  Revision create_revision = 0;
  Revision mod_revision = 0;
  std::int64_t version = 0;
  LeaseId lease = 0;
};

struct LeaseGrant {
  Header header;
  LeaseId id = 0;
  std::int64_t ttl = 0;  // seconds etcd granted (may be above what was asked)
};
// /v3/lease/grant's reply body.
Result<LeaseGrant> parse_lease_grant(std::string_view body);

struct LeaseKeepAlive {
  Header header;
  LeaseId id = 0;
  std::int64_t ttl = 0;  // seconds left after the renewal; 0: the lease is gone
  bool alive() const { return ttl > 0; }
};
// One message of /v3/lease/keepalive's reply stream ({"result":{...}}), or a
// bare object. A missing TTL means 0: the lease no longer exists.
Result<LeaseKeepAlive> parse_lease_keepalive(std::string_view message);
// A whole keepalive reply body: one message per line. Err if any line is
// garbage or an error message. Fewer replies than leases sent means etcd
// stopped reading the request there.
Result<std::vector<LeaseKeepAlive>> parse_lease_keepalive_body(std::string_view body);

struct LeaseTimeToLive {
  Header header;
  LeaseId id = 0;
  std::int64_t ttl = -1;          // seconds left; -1: the lease does not exist
  std::int64_t granted_ttl = 0;
  std::vector<std::string> keys;  // decoded, when asked for
};
// /v3/lease/timetolive's reply body.
Result<LeaseTimeToLive> parse_lease_timetolive(std::string_view body);

// The replies of /v3/lease/revoke, /v3/kv/put, /v3/kv/deleterange and
// /v3/kv/txn: header.revision is the write's revision.
struct WriteReply {
  Header header;
  std::int64_t deleted = 0;              // deleterange: how many keys went
  std::optional<KeyValue> prev_kv;       // put with prev_kv
  std::vector<KeyValue> prev_kvs;        // deleterange with prev_kv
  bool succeeded = false;                // txn
};
Result<WriteReply> parse_write_reply(std::string_view body);

// /v3/kv/txn's reply, for a txn whose branches hold ranges (cas_put_request).
struct TxnReply {
  Header header;                  // on success, header.revision is the put's mod_revision
  bool succeeded = false;         // the compare held and the success branch ran
  std::vector<KeyValue> range_kvs;  // what the branch's ranges read: after a failed CAS the
                                    // key as it is now, empty if it does not exist
};
Result<TxnReply> parse_txn_reply(std::string_view body);

struct RangeReply {
  Header header;                 // header.revision: the store's revision the range was read at
  std::vector<KeyValue> kvs;
  bool more = false;
  std::int64_t count = 0;
};
// /v3/kv/range's reply body.
Result<RangeReply> parse_range(std::string_view body);

struct Event {
  enum class Type { kPut, kDelete } type = Type::kPut;
  KeyValue kv;                   // for a DELETE: key and mod_revision (the deletion's) only
  std::optional<KeyValue> prev_kv;
};

struct WatchMessage {
  Header header;
  std::int64_t watch_id = 0;
  bool created = false;
  bool canceled = false;
  Revision compact_revision = 0;  // set when start_revision was compacted away
  std::string cancel_reason;
  std::vector<Event> events;
};
// One message of /v3/watch's reply stream. Err for garbage and for an
// {"error":{...}} message (the stream ends after one).
Result<WatchMessage> parse_watch_message(std::string_view message);

// Splits a reply stream's bytes into messages: appends what arrived to
// `buffer`, and returns each complete message (a line), leaving a partial one
// in the buffer. Empty lines are skipped. The caller bounds buffer's size.
std::vector<std::string> take_stream_messages(std::string& buffer, std::string_view received);

// A gateway error reply, unary ({"error":"...","message":"...","code":N})
// or in a stream ({"error":{"grpc_code":N,"message":"..."}}); nullopt if
// body is not one.
std::optional<Error> parse_error(std::string_view body);

}  // namespace failover::etcd
