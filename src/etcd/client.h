#pragma once
// The etcd component's public header: a client for etcd v3's JSON gateway,
// used by the registry's etcd backend and by the store's etcd arbiter. What
// others may use: this Client, and the plain values and codec of
// etcd/codec.h (pure, any thread) that its calls return.
//
// Thread: a Client is bound to one executor whose io_context runs on one
// thread; every call must be made from that thread (not thread-safe). Calls
// may overlap (a watch runs while puts go on). The client must outlive the
// calls it started.
//
// Failover between endpoints: the client talks to one endpoint, current(),
// until a request to it fails (connection, timeout or a 5xx); it then moves
// to the next and sends the same call there, trying each at most once per
// call. Every etcd write is idempotent or a compare-and-set, so resending
// one whose reply was lost is safe for what is built here (a put may then
// show as two revisions).
//
// What each error code means (core::Error; the message names the endpoint):
//   kTimeout       the last endpoint tried did not answer within
//                  request_timeout: the write may or may not have happened
//   kUnavailable   no endpoint answered (refused, reset, 5xx, no leader)
//   kNotFound      etcd says the thing is gone (a lease: lease_revoke)
//   kConflict      put_if: the key's mod_revision was not the one expected
//   kInvalid       a reply that is not what the gateway sends, or etcd
//                  refused the request (bad argument, compacted revision)
//   kUnauthorized  etcd's auth refused us
//   kInternal      anything else etcd reported
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "etcd/codec.h"

namespace failover::etcd {

struct ClientOptions {
  // One unary call on one endpoint; with n endpoints a failing call can take n times this.
  std::chrono::milliseconds request_timeout{3'000};
  // A watch: connecting and the response head (then it may stay quiet forever).
  std::chrono::milliseconds watch_head_timeout{3'000};
  // A watch message longer than this ends the watch (kInvalid).
  std::size_t max_watch_message = 16u << 20;
};

// A key read with its mod_revision: the revision to give put_if().
struct GetReply {
  Header header;                // header.revision: the store's revision it was read at
  std::optional<KeyValue> kv;   // nullopt: no such key (put_if it with expected 0)
};

class Client {
 public:
  // `endpoints`: "http://host:port[/base]", at least one. Throws
  // std::invalid_argument for an empty list or a malformed URL (start-up).
  Client(boost::asio::any_io_executor executor, std::vector<std::string> endpoints,
         ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One key and its mod_revision. A missing key is a value (kv empty), not kNotFound.
  boost::asio::awaitable<Result<GetReply>> get(std::string key);
  // Every key under `prefix`, at `revision` (0: the latest).
  boost::asio::awaitable<Result<RangeReply>> range_prefix(std::string prefix, Revision revision = 0);
  boost::asio::awaitable<Result<WriteReply>> put(std::string key, std::string value, LeaseId lease = 0);
  // Every op at one revision, no compare (reply.header.revision).
  boost::asio::awaitable<Result<WriteReply>> txn(std::vector<TxnOp> ops);
  // Compare-and-set: puts `value` only if the key's mod_revision is still
  // `expected_mod_revision` (0: only if the key does not exist). Returns the
  // key's new mod_revision; kConflict if someone wrote (or deleted) it
  // since, the message saying what it holds now. Resent to another endpoint
  // after a lost reply, a CAS that did succeed comes back kConflict: the
  // caller re-reads with get() and finds its own value.
  boost::asio::awaitable<Result<Revision>> put_if(std::string key, std::string value,
                                                 Revision expected_mod_revision, LeaseId lease = 0);

  // A lease of `ttl_seconds` (etcd may raise it: reply.ttl says what it gave).
  boost::asio::awaitable<Result<LeaseGrant>> lease_grant(std::int64_t ttl_seconds);
  // Renews every lease in one request: one reply each, in order; fewer
  // replies than ids means etcd stopped reading there (the rest were not
  // renewed). ttl 0 in a reply: that lease is gone.
  boost::asio::awaitable<Result<std::vector<LeaseKeepAlive>>> lease_keepalive(std::vector<LeaseId> ids);
  // Revokes a lease (etcd deletes its keys; reply.header.revision is the
// deletion's). kNotFound: it had run out already.
  boost::asio::awaitable<Result<WriteReply>> lease_revoke(LeaseId id);

  // Watches every key under `prefix` from `start_revision` (0: from now on)
  // on the current endpoint, handing each message (the "created" one too)
  // to `on_message` as it arrives, until the callback returns false (then
  // ok) or the watch ends: kUnavailable when the stream broke or etcd
  // canceled the watch (a compacted start_revision: reload and watch again
  // from the reload's revision), kTimeout when no head came in time,
  // kInvalid for a message that is not one. A watch that ends with an error
  // moves current() to the next endpoint, so the caller's retry goes there.
  // Cancel it through its cancellation slot, e.g. co_await (watch() || timer).
  boost::asio::awaitable<Result<void>> watch(std::string prefix, Revision start_revision,
                                             std::function<bool(const WatchMessage&)> on_message,
                                             bool prev_kv = false);

  // The endpoint in use, as given to the constructor.
  const std::string& current() const;
  // The last failure of any call ("etcd 127.0.0.1:2379: ..."), "" after a success; for /status.
  const std::string& last_error() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace failover::etcd
