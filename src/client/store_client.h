#pragma once
// A C++ client for the store's key-value API (docs/store.md, "Client"):
// get, put, delete and list against a primary/backup pair, through a
// failover. Applications may link failover_client alone (net and core).
//
// One call, one deadline. The client sends to the node that answered last
// and, within the call's deadline:
//   - follows a 307 to the Location it names (the primary, per a backup);
//   - on a 503 (a backup that knows no primary, a primary out of lease, a
//     failover under way) tries the next node, and once every node said
//     503 waits Retry-After (at most max_retry_after) before the next round;
//   - on a connection failure or a request timeout tries the next node, and
//     once every node failed backs off (doubling up to max_backoff).
// A write carries an Idempotency-Key made once per call and sent again on
// every retry, so a write whose reply was lost is applied once even when
// the retry reaches the other node after a failover.
//
// Errors (the message says which node and why):
//   kNotFound     404: no such key (get, delete)
//   kConflict     412: If-Match / If-None-Match did not hold
//   kInvalid      another 4xx (bad key, value over 1 MiB), a bad argument,
//                 or a reply that is not what the API promises
//   kTimeout      the deadline passed before any node gave an answer
//   kUnavailable  a node answered a 5xx other than 503, or a redirect loop
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace failover::client {

struct StoreClientOptions {
  std::chrono::milliseconds deadline{5'000};         // for a whole call, retries included
  std::chrono::milliseconds request_timeout{1'000};  // one attempt at most (and never past the deadline)
  std::chrono::milliseconds max_retry_after{1'000};  // a longer Retry-After is cut to this
  std::chrono::milliseconds first_backoff{50};       // after a round of connection failures
  std::chrono::milliseconds max_backoff{500};
  int max_redirects = 4;  // 307s followed in a row before trying the next node
  // Deadlines and waits; must outlive the client.
  const core::Clock* clock = &core::SteadyClock::instance();
  // Makes the Idempotency-Key of each write; 128 random bits in hex when unset.
  std::function<std::string()> idempotency_key{};
};

struct StoreValue {
  std::string value;
  std::uint64_t version = 0;  // the ETag: pass it as if_match to write only over this value
};

struct StoreWrite {
  std::uint64_t version = 0;  // put: the new version; delete: the version removed
  std::uint64_t epoch = 0;    // the primary's epoch that accepted it (X-Epoch)
  std::uint64_t seq = 0;      // its log position (X-Seq)
};

struct StoreCondition {
  std::optional<std::uint64_t> if_match{};  // only over this version
  bool if_none_match = false;             // only when the key is absent (create)
  // The write's Idempotency-Key; "" has the client make one. A service that
  // writes for its own caller passes the caller's key on, so that the
  // caller's retry through another instance is applied once too.
  std::string idempotency_key{};
};

struct StoreItem {
  std::string key;
  std::string value;  // decoded from value_base64 when the node sent that
  std::uint64_t version = 0;
  // Set when the node left the value out (1 MiB or more): its size; get()
  // the key for it.
  std::optional<std::uint64_t> value_bytes{};
};

struct StorePage {
  std::vector<StoreItem> items;
  bool more = false;
  std::string next;  // pass as `after` for the next page (when more)
};

// Bound to `executor`, whose io_context runs on one thread; every call must
// be made from that thread (not thread-safe). Calls may overlap. The client
// must outlive the calls it started.
class StoreClient {
 public:
  // `node_urls`: "http://host:port" of every node, at least one. Throws
  // std::invalid_argument for an empty list or a malformed URL (start-up).
  StoreClient(boost::asio::any_io_executor executor, std::vector<std::string> node_urls,
              StoreClientOptions options = {});
  ~StoreClient();
  StoreClient(const StoreClient&) = delete;
  StoreClient& operator=(const StoreClient&) = delete;

  // `stale`: let a backup answer from its own copy (?stale=1), which may lag.
  boost::asio::awaitable<core::Result<StoreValue>> get(std::string key, bool stale = false);
  boost::asio::awaitable<core::Result<StoreWrite>> put(std::string key, std::string value,
                                                       StoreCondition condition = {});
  boost::asio::awaitable<core::Result<StoreWrite>> del(std::string key, StoreCondition condition = {});
  // Keys starting with `prefix`, after `after`, at most `limit` (1..1000).
  boost::asio::awaitable<core::Result<StorePage>> list(std::string prefix, std::string after = "",
                                                       std::size_t limit = 100);

  // The node URL the next call goes to first.
  const std::string& current() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "user/1 é" -> "user%2F1%20%C3%A9": every byte but unreserved ones
// (RFC 3986: A-Z a-z 0-9 - . _ ~) escaped, '/' included, so a key is one
// path segment to every proxy on the way.
std::string percent_encode(std::string_view s);

}  // namespace failover::client
