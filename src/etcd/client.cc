#include "etcd/client.h"

#include <boost/asio/error.hpp>
#include <stdexcept>

#include "net/http_client.h"
#include "net/url.h"

namespace failover::etcd {

namespace asio = boost::asio;

struct Client::Impl {
  ClientOptions options;
  std::vector<std::string> names;  // as given, for current()
  std::vector<net::HttpUrl> endpoints;
  std::size_t current = 0;
  net::HttpClient http;
  std::string last_error;

  Impl(asio::any_io_executor ex, std::vector<std::string> urls, ClientOptions o)
      : options(o), names(std::move(urls)), http(ex) {
    if (names.empty()) throw std::invalid_argument("etcd: no endpoint");
    for (const auto& n : names) {
      auto u = net::parse_http_url(n);
      if (!u) throw std::invalid_argument("etcd endpoint \"" + n + "\": " + u.error().message);
      endpoints.push_back(std::move(*u));
    }
  }

  Error fail(Error e) {
    last_error = e.message;
    return e;
  }

  // The failure one endpoint's reply (or its absence) stands for.
  // A transport failure keeps its code: kUnavailable (never sent) stays
  // apart from kTimeout (outcome unknown), which a compare-and-set needs.
  Error error_of(const net::HttpUrl& e, const Result<net::ClientResponse>& r) const {
    const std::string who = "etcd " + e.host_port + ": ";
    if (!r) return Error{r.error().code, who + r.error().message};
    const std::string status = "status " + std::to_string(r->status);
    if (auto parsed = parse_error(r->body)) {
      parsed->message = who + status + ": " + parsed->message;
      if (r->status >= 500 && parsed->code == ErrorCode::kInternal) parsed->code = ErrorCode::kUnavailable;
      return *parsed;
    }
    std::string body = r->body.substr(0, 200);
    if (r->status >= 500) return Error::unavailable(who + status + " " + body);
    return Error::invalid(who + status + " " + body);
  }

  // POSTs to the current endpoint; on a transport failure or a 5xx, to the
  // next ones in turn. The body of the first 200, or the last failure.
  asio::awaitable<Result<std::string>> call(std::string_view path, std::string body) {
    std::optional<Error> error;
    for (std::size_t tried = 0; tried < endpoints.size(); ++tried) {
      const net::HttpUrl& e = endpoints[current];
      // Named, not braced in the co_await: GCC 12 destroys such temporaries twice.
      net::ClientRequest req{"POST", e.base_path + std::string(path), {}, body};
      Result<net::ClientResponse> r = co_await http.request(e.host_port, std::move(req), options.request_timeout);
      if (r && r->status == 200) {
        last_error.clear();
        std::string reply = std::move(r->body);
        co_return reply;
      }
      error = error_of(e, r);
      // A 4xx is etcd's answer, the same from every member: do not move.
      if (r && r->status < 500) co_return fail(std::move(*error));
      // A cancelled call is over, not a reason to try the next member.
      if (r.is(ErrorCode::kCancelled)) co_return fail(std::move(*error));
      current = (current + 1) % endpoints.size();
    }
    co_return fail(std::move(*error));
  }
};

Client::Client(asio::any_io_executor executor, std::vector<std::string> endpoints, ClientOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(endpoints), options)) {}

Client::~Client() = default;

const std::string& Client::current() const { return impl_->names[impl_->current]; }
const std::string& Client::last_error() const { return impl_->last_error; }

asio::awaitable<Result<GetReply>> Client::get(std::string key) {
  auto body = co_await impl_->call(kRangePath, range_key_request(key));
  if (!body) co_return body.error();
  auto range = parse_range(*body);
  if (!range) co_return impl_->fail(range.error());
  GetReply out{range->header, std::nullopt};
  for (auto& kv : range->kvs)
    if (kv.key == key) out.kv = std::move(kv);
  co_return out;
}

asio::awaitable<Result<RangeReply>> Client::range_prefix(std::string prefix, Revision revision) {
  auto body = co_await impl_->call(kRangePath, range_prefix_request(prefix, revision));
  if (!body) co_return body.error();
  auto range = parse_range(*body);
  if (!range) co_return impl_->fail(range.error());
  co_return std::move(*range);
}

asio::awaitable<Result<WriteReply>> Client::put(std::string key, std::string value, LeaseId lease) {
  auto body = co_await impl_->call(kPutPath, put_request(key, value, lease));
  if (!body) co_return body.error();
  auto reply = parse_write_reply(*body);
  if (!reply) co_return impl_->fail(reply.error());
  co_return std::move(*reply);
}

asio::awaitable<Result<WriteReply>> Client::txn(std::vector<TxnOp> ops) {
  auto body = co_await impl_->call(kTxnPath, txn_request(ops));
  if (!body) co_return body.error();
  auto reply = parse_write_reply(*body);
  if (!reply) co_return impl_->fail(reply.error());
  co_return std::move(*reply);
}

asio::awaitable<Result<Revision>> Client::put_if(std::string key, std::string value,
                                                 Revision expected_mod_revision, LeaseId lease) {
  auto body = co_await impl_->call(kTxnPath, cas_put_request(key, value, expected_mod_revision, lease));
  if (!body) co_return body.error();
  auto reply = parse_txn_reply(*body);
  if (!reply) co_return impl_->fail(reply.error());
  if (reply->succeeded) co_return reply->header.revision;
  const Revision now = reply->range_kvs.empty() ? 0 : reply->range_kvs.front().mod_revision;
  co_return Error::conflict("etcd: " + key + " is at mod_revision " + std::to_string(now) +
                            ", not " + std::to_string(expected_mod_revision));
}

asio::awaitable<Result<LeaseGrant>> Client::lease_grant(std::int64_t ttl_seconds) {
  auto body = co_await impl_->call(kLeaseGrantPath, lease_grant_request(ttl_seconds));
  if (!body) co_return body.error();
  auto grant = parse_lease_grant(*body);
  if (!grant) co_return impl_->fail(grant.error());
  co_return std::move(*grant);
}

asio::awaitable<Result<std::vector<LeaseKeepAlive>>> Client::lease_keepalive(std::vector<LeaseId> ids) {
  auto body = co_await impl_->call(kLeaseKeepAlivePath, lease_keepalive_request(ids));
  if (!body) co_return body.error();
  auto replies = parse_lease_keepalive_body(*body);
  if (!replies) co_return impl_->fail(replies.error());
  co_return std::move(*replies);
}

asio::awaitable<Result<WriteReply>> Client::lease_revoke(LeaseId id) {
  auto body = co_await impl_->call(kLeaseRevokePath, lease_revoke_request(id));
  if (!body) co_return body.error();
  auto reply = parse_write_reply(*body);
  if (!reply) co_return impl_->fail(reply.error());
  co_return std::move(*reply);
}

asio::awaitable<Result<void>> Client::watch(std::string prefix, Revision start_revision,
                                            std::function<bool(const WatchMessage&)> on_message,
                                            bool prev_kv) {
  const auto keep = impl_;  // a watch may outlive the Client; its internals stay
  Impl& d = *keep;
  const net::HttpUrl e = d.endpoints[d.current];
  const std::string who = "etcd " + e.host_port + ": watch: ";
  std::string buffer;
  std::optional<Error> failure;
  bool stopped = false;
  net::StreamOptions options;
  options.head_timeout = d.options.watch_head_timeout;
  net::ClientRequest req{"POST", e.base_path + std::string(kWatchPath), {},
                         watch_create_request(prefix, start_revision, prev_kv)};
  const auto ec = co_await d.http.stream(
      e.host_port, std::move(req),
      [&](std::string_view piece) {
        for (const std::string& m : take_stream_messages(buffer, piece)) {
          auto msg = parse_watch_message(m);
          if (!msg) {
            failure = msg.error();
            failure->message = who + failure->message;
            if (failure->code == ErrorCode::kInternal) failure->code = ErrorCode::kUnavailable;
            return false;
          }
          if (msg->canceled) {
            failure = Error::unavailable(who + "canceled by etcd" +
                                         (msg->cancel_reason.empty() ? "" : ": " + msg->cancel_reason) +
                                         (msg->compact_revision ? " (compacted at " + std::to_string(msg->compact_revision) + ")" : ""));
            return false;
          }
          if (!on_message(*msg)) {
            stopped = true;
            return false;
          }
        }
        if (buffer.size() < d.options.max_watch_message) return true;
        failure = Error::invalid(who + "a message longer than " + std::to_string(d.options.max_watch_message) + " bytes");
        return false;
      },
      options);
  if (stopped) co_return core::ok();
  if (!failure) {
    if (ec == asio::error::timed_out) failure = Error::timeout(who + "no reply in " + std::to_string(options.head_timeout.count()) + "ms");
    else if (ec) failure = Error::unavailable(who + ec.message());
    else failure = Error::unavailable(who + "the stream ended");
  }
  d.current = (d.current + 1) % d.endpoints.size();
  co_return d.fail(std::move(*failure));
}

}  // namespace failover::etcd
