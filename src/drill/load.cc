#include "drill/load.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace failover::drill {
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kRoundPause{50};  // after every LB failed once, before resolving again

// splitmix64: small, and the same sequence on every machine for a seed.
std::uint64_t next(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool answered(int status) { return status == 200 || status == 404; }
// What a client retries elsewhere: the LB's or the instance's "not now".
bool retryable(int status) { return status == 502 || status == 503 || status == 504; }

client::ResolverOptions resolver_options(const LoadOptions& o, const core::Clock& clock) {
  client::ResolverOptions r;
  r.httpdns = o.httpdns;
  r.request_timeout = milliseconds(500);
  r.server_backoff = milliseconds(2'000);  // a restarted HTTPDNS server is asked again soon
  r.seed = o.seed;
  r.clock = &clock;
  return r;
}

}  // namespace

struct Load::Sent {
  bool ok = false;
  bool maybe_applied = false;  // a failed write that some node may have applied
  bool retried = false;
  net::ClientResponse response;
  std::string why;
};

Load::Load(asio::any_io_executor executor, LoadOptions options, const core::Clock& clock)
    : executor_(executor),
      o_(std::move(options)),
      clock_(clock),
      resolver_(executor, resolver_options(o_, clock)),
      http_(std::make_shared<net::HttpClient>(executor, net::HttpClientOptions{}, clock)),
      t0_(clock.now()) {}

Load::~Load() = default;

LoadSecond& Load::second_of(core::TimePoint t) {
  const auto s = static_cast<std::size_t>(std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(t - t0_).count()));
  if (timeline_.size() <= s) timeline_.resize(s + 1);
  return timeline_[s];
}

asio::awaitable<Load::Sent> Load::send(net::ClientRequest req, std::uint64_t& rng) {
  Sent sent;
  const core::TimePoint deadline = clock_.now() + o_.deadline;
  bool first = true;
  while (clock_.now() < deadline) {
    if (!first) {
      sent.retried = true;
      co_await clock_.sleep_for(kRoundPause);
    }
    first = false;
    auto resolved = co_await resolver_.resolve(o_.host);
    if (!resolved || resolved->ips.empty()) {
      sent.why = resolved ? "the name resolved to no IP" : "resolve: " + resolved.error().message;
      continue;
    }
    std::vector<std::string> ips = resolved->ips;
    for (std::size_t i = ips.size(); i > 1; --i) std::swap(ips[i - 1], ips[next(rng) % i]);
    for (std::size_t i = 0; i < ips.size(); ++i) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_.now());
      if (left <= milliseconds(0)) break;
      if (i > 0) sent.retried = true;
      auto http = http_;  // the client outlives this call even if the load goes first
      auto res = co_await http->request(ips[i] + ":" + std::to_string(o_.port), req, std::min(left, o_.attempt_timeout));
      if (res && answered(res->status)) {
        sent.ok = true;
        sent.response = std::move(*res);
        co_return sent;
      }
      if (res) {
        sent.why = ips[i] + " answered " + std::to_string(res->status) + ": " + res->body.substr(0, 200);
        sent.maybe_applied = true;
        if (!retryable(res->status)) co_return sent;
      } else {
        sent.why = res.error().message;
        // Refused before a byte was sent: nothing can have been applied.
        if (!res.is(core::ErrorCode::kUnavailable)) sent.maybe_applied = true;
      }
    }
  }
  co_return sent;
}

asio::awaitable<void> Load::read(const std::string& client, const std::string& key, std::uint64_t& rng) {
  net::ClientRequest req;
  req.target = "/kv/" + key;
  const core::TimePoint start = clock_.now();
  Sent sent = co_await send(std::move(req), rng);
  const core::TimePoint end = clock_.now();
  ++reads_;
  if (sent.retried) ++retried_;
  if (!sent.ok) {
    ++read_failures_;
    ++second_of(end).reads_failed;
    failures_.push_back({start, end, false, key, sent.why});
    co_return;  // a failed read says nothing about the value
  }
  ++second_of(end).reads_ok;
  Operation op{Operation::Kind::kRead, key, std::nullopt, start, end, Operation::Outcome::kOk, client};
  if (sent.response.status == 200) op.value = std::move(sent.response.body);
  history_.push_back(std::move(op));
}

asio::awaitable<void> Load::write(const std::string& client, const std::string& key, std::string value,
                                  std::uint64_t& rng) {
  net::ClientRequest req;
  req.method = "PUT";
  req.target = "/kv/" + key;
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  // Unique to this write: the key carries the run's prefix, the value the client's count.
  req.headers.emplace_back("Idempotency-Key", key + "/" + value);
  req.body = value;
  const core::TimePoint start = clock_.now();
  Sent sent = co_await send(std::move(req), rng);
  const core::TimePoint end = clock_.now();
  ++writes_;
  if (sent.retried) ++retried_;
  Operation op{Operation::Kind::kWrite, key, std::move(value), start, end, Operation::Outcome::kOk, client};
  if (!sent.ok || sent.response.status != 200) {
    ++write_failures_;
    ++second_of(end).writes_failed;
    failures_.push_back({start, end, true, key, sent.ok ? "answered " + std::to_string(sent.response.status) : sent.why});
    op.outcome = sent.maybe_applied ? Operation::Outcome::kUnknown : Operation::Outcome::kFailed;
  } else {
    ++second_of(end).writes_ok;
  }
  history_.push_back(std::move(op));
}

asio::awaitable<void> Load::client(int id) {
  std::uint64_t rng = o_.seed * 1'000'003 + static_cast<std::uint64_t>(id);
  const std::string name = "c" + std::to_string(id);
  std::uint64_t n = 0;
  while (!stopping_) {
    const std::string key = o_.key_prefix + "k" + std::to_string(next(rng) % static_cast<std::uint64_t>(o_.keys));
    if (static_cast<int>(next(rng) % 100) < o_.write_percent) {
      co_await write(name, key, name + "-" + std::to_string(++n), rng);
    } else {
      co_await read(name, key, rng);
    }
    co_await clock_.sleep_for(o_.think);
  }
  --running_;
  clients_done_.notify_all();
}

void Load::start() {
  t0_ = clock_.now();
  for (int i = 0; i < o_.clients; ++i) {
    ++running_;
    asio::co_spawn(executor_, client(i), asio::detached);
  }
}

asio::awaitable<void> Load::stop() {
  stopping_ = true;
  while (running_ > 0) co_await clients_done_.wait();
  std::uint64_t rng = o_.seed;
  for (int k = 0; k < o_.keys; ++k) co_await read("final", o_.key_prefix + "k" + std::to_string(k), rng);
}

}  // namespace failover::drill
