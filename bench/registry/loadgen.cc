// Load generator for bench/registry/run: many instances heartbeating at a
// fixed rate, blocking watchers, and the time from a change to its watcher.
// The same load goes to `failover registry` (its HTTP API) or to etcd (lease
// keep-alives through etcd's v3 JSON gateway), so the two can be compared.
//
//   registry_loadgen --target failover --url http://127.0.0.1:8500
//       --instances 10000 --rate-per-instance 1/s --watchers 100 --duration 20s --connections 64
//   registry_loadgen --target etcd --url http://127.0.0.1:2379 --etcd-batch 1000 ...
//
// Phases: register every instance (heartbeats start for each as soon as it is
// registered, batched during set-up, so a short ttl does not run out), start
// the watchers, warm up until no lease is being lost (bounded), then the
// measured window: "MEASURE START" and
// "MEASURE END" lines on stdout mark it (the runner samples the server's CPU
// there), and one JSON line of results follows. Only heartbeats due inside the
// window are counted. Everything is bounded: set-up, window, drain; errors are
// counted, never fatal.
//
// Heartbeat i of the schedule is due at start + i * period / N, for instance
// i mod N: evenly spread in time, not in bursts. A heartbeat whose previous
// one is still queued or in flight is skipped and counted, so a server that
// cannot keep up shows as failed heartbeats, not as a queue that grows
// without bound. Latency is from the request's write to its reply; the wait
// between due time and write ("lag") is reported apart, which tells whether
// this generator (or the connection pool) kept up.
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "net/endpoint.h"
#include "net/http_client.h"
#include "net/url.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kGoDiscardLimit = 256 * 1024;  // net/http maxPostHandlerReadBytes
constexpr int kSetupBatch = 1000;

// ---------------------------------------------------------------- options

struct Options {
  std::string target = "failover";  // or "etcd"
  std::string url;
  int instances = 10'000;
  int services = 100;
  int watchers = 100;
  int connections = 64;
  int batch = 1;                    // heartbeats per HTTP request
  double rate = 1.0;                // heartbeats per instance per second
  milliseconds duration{20'000};
  milliseconds warmup{2'000};
  milliseconds ttl{3'000};
  milliseconds batch_wait{100};     // a partial batch leaves after this long
  milliseconds setup_limit{120'000};
  milliseconds settle_limit{15'000};
  double changes_per_second = 1.0;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "registry_loadgen: " << problem << "\n"
            << "usage: registry_loadgen --target failover|etcd --url http://HOST:PORT [--instances N]\n"
               "  [--services N] [--rate-per-instance R/s] [--watchers N] [--duration 20s]\n"
               "  [--connections N] [--batch N | --etcd-batch N] [--batch-wait 100ms] [--warmup 2s]\n"
               "  [--ttl 3s] [--changes-per-second R] [--setup-limit 120s] [--settle-limit 15s]\n";
  std::exit(2);
}

double number(const std::string& flag, std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v >= 0)) usage("bad number for " + flag + ": " + std::string(text));
  return v;
}

// "20s", "500ms", "2m" or a bare number of seconds.
milliseconds duration_arg(const std::string& flag, std::string_view text) {
  double scale = 1000;
  if (text.ends_with("ms")) scale = 1, text.remove_suffix(2);
  else if (text.ends_with("s")) text.remove_suffix(1);
  else if (text.ends_with("m")) scale = 60'000, text.remove_suffix(1);
  return milliseconds(static_cast<long long>(number(flag, text) * scale));
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string v = argv[++i];
    auto count = [&](int lo) {
      const double n = number(flag, v);
      if (n < lo || n > 10'000'000 || n != static_cast<int>(n)) usage("bad count for " + flag);
      return static_cast<int>(n);
    };
    if (flag == "--target") o.target = v;
    else if (flag == "--url") o.url = v;
    else if (flag == "--instances") o.instances = count(1);
    else if (flag == "--services") o.services = count(1);
    else if (flag == "--watchers") o.watchers = count(0);
    else if (flag == "--connections") o.connections = count(1);
    else if (flag == "--batch" || flag == "--etcd-batch") o.batch = count(1);
    else if (flag == "--rate-per-instance") o.rate = number(flag, v.ends_with("/s") ? v.substr(0, v.size() - 2) : v);
    else if (flag == "--duration") o.duration = duration_arg(flag, v);
    else if (flag == "--warmup") o.warmup = duration_arg(flag, v);
    else if (flag == "--ttl") o.ttl = duration_arg(flag, v);
    else if (flag == "--batch-wait") o.batch_wait = duration_arg(flag, v);
    else if (flag == "--setup-limit") o.setup_limit = duration_arg(flag, v);
    else if (flag == "--settle-limit") o.settle_limit = duration_arg(flag, v);
    else if (flag == "--changes-per-second") o.changes_per_second = number(flag, v);
    else usage("unknown option " + flag);
  }
  if (o.target != "failover" && o.target != "etcd") usage("--target must be failover or etcd");
  if (o.url.empty()) usage("--url is required");
  if (o.rate <= 0 || o.rate > 1000) usage("--rate-per-instance must be in (0, 1000]/s");
  if (o.duration.count() <= 0 || o.duration > std::chrono::hours(1)) usage("--duration must be in (0, 1h]");
  if (o.watchers > o.services) usage("--watchers cannot exceed --services (one watcher per service)");
  return o;
}

// ---------------------------------------------------------------- helpers

// Latencies in microseconds; percentiles by sorting at the end.
struct Samples {
  std::vector<std::uint32_t> us;
  void add(Clock::duration d) {
    const auto v = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    us.push_back(static_cast<std::uint32_t>(std::clamp<long long>(v, 0, UINT32_MAX)));
  }
  std::string json() {
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) -> double {
      if (us.empty()) return -1;
      const std::size_t i = std::min(us.size() - 1, static_cast<std::size_t>(p * static_cast<double>(us.size())));
      return us[i] / 1000.0;
    };
    char out[160];
    std::snprintf(out, sizeof out, "{\"count\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}",
                  us.size(), pct(0.5), pct(0.99), pct(0.999), us.empty() ? -1.0 : us.back() / 1000.0);
    return out;
  }
};

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    for (int s : {18, 12, 6, 0}) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// The string value of "field":"..." in a flat JSON text (etcd's int64 are
// strings); empty when absent.
std::string json_string_field(std::string_view body, std::string_view field) {
  const std::string key = "\"" + std::string(field) + "\":\"";
  const auto at = body.find(key);
  if (at == std::string_view::npos) return {};
  const auto start = at + key.size();
  const auto end = body.find('"', start);
  return end == std::string_view::npos ? std::string() : std::string(body.substr(start, end - start));
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// One keep-alive connection, one request at a time. A failed exchange
// closes it; the next one connects again.
class Conn {
 public:
  Conn(asio::any_io_executor ex, tcp::endpoint ep) : stream_(std::move(ex)), endpoint_(ep) {}

  asio::awaitable<error_code> exchange(Request& req, Response& res, milliseconds timeout) {
    if (!open_) {
      stream_.expires_after(timeout);
      auto [ec] = co_await stream_.async_connect(endpoint_, kTuple);
      if (ec) co_return ec;
      stream_.socket().set_option(tcp::no_delay(true));
      open_ = true;
    }
    stream_.expires_after(timeout);
    auto [wec, written] = co_await http::async_write(stream_, req, kTuple);
    if (wec) co_return close(wec);
    res = {};
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    auto [rec, read] = co_await http::async_read(stream_, buffer_, parser, kTuple);
    if (rec) co_return close(rec);
    res = parser.release();
    if (res.need_eof()) close({});
    co_return error_code{};
  }

 private:
  error_code close(error_code ec) {
    error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    open_ = false;
    return ec;
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  tcp::endpoint endpoint_;
  bool open_ = false;
};

// ---------------------------------------------------------------- the run

struct HeartbeatCounts {
  long long scheduled = 0;   // due inside the window
  long long sent = 0;        // of those, written to the server
  long long ok = 0;          // renewed
  long long rejected = 0;    // a reply, but not renewed (unknown instance, dead lease)
  long long errors = 0;      // no reply: connect/read/timeout, or an error status
  long long skipped = 0;     // the previous heartbeat of the instance was still pending
  long long unregistered = 0;  // not sent: the instance is not registered
};

struct ChangeState {
  bool pending = false;
  bool replied = false;
  bool notified = false;
  Clock::time_point sent, reply, told;
};

struct Item {
  int instance;
  Clock::time_point due;
  bool counted;  // due inside the measured window
};

class LoadGen {
 public:
  LoadGen(asio::io_context& io, Options o, tcp::endpoint ep, std::string host_port)
      : io_(io), o_(std::move(o)), endpoint_(ep), host_port_(std::move(host_port)),
        etcd_(o_.target == "etcd"), registered_(o_.instances, 0), busy_(o_.instances, 0),
        lease_(etcd_ ? o_.instances : 0), change_(o_.services), watch_ready_(o_.services, 0),
        http_(io.get_executor()) {}

  asio::awaitable<void> run();

 private:
  std::string service(int s) const { return "bench-" + std::to_string(s); }
  std::string instance_id(int i) const { return "i-" + std::to_string(i); }
  std::string etcd_prefix(int s) const { return "/bench/" + service(s) + "/"; }
  Request make(http::verb verb, std::string target, std::string body) const {
    Request req{verb, target, 11};
    req.set(http::field::host, host_port_);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  asio::awaitable<void> sleep_until(Clock::time_point t) {
    asio::steady_timer timer(io_);
    timer.expires_at(t);
    co_await timer.async_wait(kTuple);
  }

  asio::awaitable<bool> register_instance(Conn& c, int i);
  asio::awaitable<void> send_heartbeats(Conn& c, std::vector<Item> items);
  asio::awaitable<void> worker();
  asio::awaitable<void> dispatcher();
  asio::awaitable<void> failover_watcher(int s);
  asio::awaitable<void> etcd_watcher(int s);
  asio::awaitable<void> changer();
  void notified(int s, Clock::time_point now);
  void record_change(ChangeState& ch);
  // Set-up heartbeats go in batches: with one per request an overloaded
  // server (etcd at 10k/s) starves the registrations and set-up never ends.
  // The measured batch applies from the warm-up on.
  std::size_t batch() const { return static_cast<std::size_t>(setting_up_ ? std::max(o_.batch, kSetupBatch) : o_.batch); }
  bool batch_ready(Clock::time_point now) const;
  void wake_workers(Clock::time_point now);
  std::string results_json(double window_s, double loadgen_cpu);

  asio::io_context& io_;
  Options o_;
  tcp::endpoint endpoint_;
  std::string host_port_;
  bool etcd_;

  std::vector<char> registered_, busy_;
  std::vector<std::string> lease_;  // etcd lease id per instance
  int next_register_ = 0, first_done_ = 0, registered_count_ = 0;
  std::deque<int> reregister_;  // lost their lease: register again
  long long register_errors_ = 0, lost_ = 0, reregistered_ = 0;
  std::deque<Item> queue_;
  std::vector<asio::steady_timer*> idle_;
  int in_flight_ = 0;
  bool setting_up_ = true, dispatching_ = true, draining_ = false, stopping_ = false;
  Clock::time_point window_start_ = Clock::time_point::max(), window_end_ = Clock::time_point::max();

  HeartbeatCounts hb_;
  Samples latency_, lag_, requests_;
  std::vector<ChangeState> change_;
  std::vector<char> watch_ready_;
  Samples notify_from_reply_, notify_from_send_;
  long long changes_ = 0, change_errors_ = 0, missed_ = 0, unsolicited_ = 0, watch_errors_ = 0;
  failover::net::HttpClient http_;  // etcd watch streams
};

asio::awaitable<bool> LoadGen::register_instance(Conn& c, int i) {
  const int s = i % o_.services;
  const std::string spec = "{\"address\":\"10.0." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250 + 1) +
                           "\",\"port\":8080,\"ttl_ms\":" + std::to_string(o_.ttl.count()) + ",\"meta\":{}}";
  Response res;
  if (!etcd_) {
    Request req = make(http::verb::put, "/v1/services/" + service(s) + "/instances/" + instance_id(i), spec);
    const error_code ec = co_await c.exchange(req, res, milliseconds(10'000));
    co_return !ec && (res.result_int() == 200 || res.result_int() == 201);
  }
  const long long ttl_s = std::max<long long>(1, (o_.ttl.count() + 999) / 1000);
  Request grant = make(http::verb::post, "/v3/lease/grant", "{\"TTL\":" + std::to_string(ttl_s) + "}");
  error_code ec = co_await c.exchange(grant, res, milliseconds(10'000));
  if (ec || res.result_int() != 200) co_return false;
  std::string id = json_string_field(res.body(), "ID");
  if (id.empty()) co_return false;
  const std::string key = etcd_prefix(s) + "instances/" + instance_id(i);
  Request put = make(http::verb::post, "/v3/kv/put",
                     "{\"key\":\"" + base64(key) + "\",\"value\":\"" + base64(spec) + "\",\"lease\":\"" + id + "\"}");
  ec = co_await c.exchange(put, res, milliseconds(10'000));
  if (ec || res.result_int() != 200) co_return false;
  lease_[i] = std::move(id);
  co_return true;
}

asio::awaitable<void> LoadGen::send_heartbeats(Conn& c, std::vector<Item> items) {
  std::string body, target;
  if (etcd_) {
    // Back-to-back request objects on one keepalive stream: one reply line each.
    target = "/v3/lease/keepalive";
    for (const Item& it : items) body += "{\"ID\":\"" + lease_[it.instance] + "\"}";
    // etcd 3.4's gateway runs on Go's HTTP/1 server, which discards the
    // unread rest of a request body (up to 256 KiB) when the first reply
    // line is written: the keep-alives not yet decoded are dropped, never
    // renewed (measured: 126..1000 of 1000 answered). A body whose unread
    // rest is still over 256 KiB at that point is not discarded, so trailing
    // whitespace (which the JSON decoder skips) keeps every keep-alive. It
    // costs etcd about 1.4 ms of CPU per batch and the connection.
    if (items.size() > 1) body.append(kGoDiscardLimit + 1, ' ');
  } else if (items.size() == 1) {
    const int i = items[0].instance;
    target = "/v1/services/" + service(i % o_.services) + "/instances/" + instance_id(i) + "/heartbeat";
  } else {
    target = "/v1/heartbeats";
    body = "{\"instances\":[";
    for (const Item& it : items) {
      if (body.size() > 14) body += ',';
      body += "{\"service\":\"" + service(it.instance % o_.services) + "\",\"id\":\"" + instance_id(it.instance) + "\"}";
    }
    body += "]}";
  }
  Request req = make(items.size() == 1 && !etcd_ ? http::verb::put : http::verb::post, target, std::move(body));
  Response res;
  ++in_flight_;
  const Clock::time_point sent = Clock::now();
  const error_code ec = co_await c.exchange(req, res, milliseconds(10'000));
  const Clock::time_point now = Clock::now();
  --in_flight_;

  // Which of the batch were renewed. etcd answers one line per lease, in
  // order, a dead lease without TTL; the registry names the unknown ones.
  const bool answered = !ec && (res.result_int() == 200 || (res.result_int() == 404 && items.size() == 1 && !etcd_));
  std::vector<char> renewed(items.size(), 0);
  if (answered && etcd_) {
    std::string_view b = res.body();
    std::size_t k = 0;
    for (std::size_t nl; k < items.size() && (nl = b.find('\n')) != std::string_view::npos; b.remove_prefix(nl + 1)) {
      const std::string_view line = b.substr(0, nl);
      if (line.find("\"result\"") == std::string_view::npos) continue;
      const auto at = line.find("\"TTL\":\"");
      renewed[k++] = at != std::string_view::npos && line.substr(at + 7, 2) != "0\"";
    }
  } else if (answered && items.size() == 1) {
    renewed[0] = res.result_int() == 200;
  } else if (answered) {
    std::fill(renewed.begin(), renewed.end(), 1);
    std::string_view b = res.body();
    for (std::size_t at; (at = b.find("\"id\":\"i-")) != std::string_view::npos; b.remove_prefix(at + 8)) {
      int i = -1;
      std::from_chars(b.data() + at + 8, b.data() + b.size(), i);
      for (std::size_t k = 0; k < items.size(); ++k)
        if (items[k].instance == i) renewed[k] = 0;
    }
  }
  bool counted_request = false;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const Item& it = items[k];
    busy_[it.instance] = 0;
    if (answered && !renewed[k]) {
      // Its lease ran out (or it was removed): register it again, as a
      // real client would, so one bad second does not lose it for good.
      registered_[it.instance] = 0;
      --registered_count_;
      ++lost_;
      reregister_.push_back(it.instance);
    }
    if (!it.counted) continue;
    counted_request = true;
    ++hb_.sent;
    lag_.add(sent - it.due);
    if (!answered) {
      ++hb_.errors;
      continue;
    }
    latency_.add(now - sent);
    if (renewed[k]) ++hb_.ok;
    else ++hb_.rejected;
  }
  if (counted_request) requests_.add(now - sent);
}

bool LoadGen::batch_ready(Clock::time_point now) const {
  if (queue_.empty()) return false;
  if (batch() == 1 || draining_ || queue_.size() >= batch()) return true;
  return now - queue_.front().due >= o_.batch_wait;
}

void LoadGen::wake_workers(Clock::time_point now) {
  std::size_t wanted = 0;
  if (batch_ready(now)) wanted = std::max<std::size_t>(1, queue_.size() / batch());
  wanted += reregister_.size();
  while (wanted-- > 0 && !idle_.empty()) {
    idle_.back()->cancel();
    idle_.pop_back();
  }
}

// Heartbeats first (a queued heartbeat is a lease running out), then
// registrations, else park until the dispatcher wakes us.
asio::awaitable<void> LoadGen::worker() {
  Conn c(io_.get_executor(), endpoint_);
  asio::steady_timer park(io_);
  while (!stopping_) {
    if (batch_ready(Clock::now())) {
      std::vector<Item> items;
      while (!queue_.empty() && items.size() < batch()) {
        items.push_back(queue_.front());
        queue_.pop_front();
      }
      co_await send_heartbeats(c, std::move(items));
      continue;
    }
    if (!reregister_.empty() || next_register_ < o_.instances) {
      int i;
      const bool first = reregister_.empty();
      if (!first) {
        i = reregister_.front();
        reregister_.pop_front();
      } else {
        i = next_register_++;
      }
      const bool ok = co_await register_instance(c, i);
      first_done_ += first;
      if (ok) {
        registered_[i] = 1;
        ++registered_count_;
        if (Clock::now() >= window_start_) ++reregistered_;
      } else {
        ++register_errors_;
      }
      continue;
    }
    idle_.push_back(&park);
    park.expires_at(Clock::time_point::max());
    co_await park.async_wait(kTuple);
    std::erase(idle_, &park);  // woken by stop rather than by the dispatcher
  }
}

asio::awaitable<void> LoadGen::dispatcher() {
  const auto period = std::chrono::duration<double>(1.0 / o_.rate);
  const auto step = std::chrono::duration_cast<Clock::duration>(period / o_.instances);
  const Clock::time_point start = Clock::now();
  asio::steady_timer timer(io_);
  long long seq = 0;
  Clock::time_point tick = start;
  while (dispatching_) {
    tick += milliseconds(1);
    timer.expires_at(tick);
    co_await timer.async_wait(kTuple);
    const Clock::time_point now = Clock::now();
    if (tick < now - milliseconds(50)) tick = now;  // we were stalled: do not spin to catch up
    for (Clock::time_point due = start + seq * step; due <= now; due = start + ++seq * step) {
      if (due >= window_end_) {
        dispatching_ = false;
        break;
      }
      const int i = static_cast<int>(seq % o_.instances);
      const bool counted = due >= window_start_;
      if (counted) ++hb_.scheduled;
      if (!registered_[i]) {
        hb_.unregistered += counted;  // its registration failed, or it is being registered again
        continue;
      }
      if (busy_[i]) {
        if (counted) ++hb_.skipped;
        continue;
      }
      busy_[i] = 1;
      queue_.push_back({i, due, counted});
    }
    wake_workers(now);
  }
}

// One blocking query per service, asked again after every answer; an
// answer with a new index is a change.
asio::awaitable<void> LoadGen::failover_watcher(int s) {
  Conn c(io_.get_executor(), endpoint_);
  std::string index;
  while (!stopping_) {
    std::string target = "/v1/services/" + service(s);
    if (!index.empty()) target += "?index=" + index + "&wait=30s";
    Request req = make(http::verb::get, target, "");
    Response res;
    const error_code ec = co_await c.exchange(req, res, milliseconds(40'000));
    const Clock::time_point now = Clock::now();
    if (stopping_) break;
    if (ec || res.result_int() != 200) {
      ++watch_errors_;
      co_await sleep_until(now + milliseconds(100));
      continue;
    }
    std::string got(res["X-Registry-Index"]);
    if (!index.empty() && got != index) notified(s, now);
    index = std::move(got);
    watch_ready_[s] = 1;
  }
}

// One /v3/watch stream per service prefix: every message with events is a
// change (the first, "created", has none).
asio::awaitable<void> LoadGen::etcd_watcher(int s) {
  while (!stopping_) {
    std::string prefix = etcd_prefix(s), end = prefix;
    end.back() = static_cast<char>(end.back() + 1);
    failover::net::ClientRequest req;
    req.method = "POST";
    req.target = "/v3/watch";
    req.body = "{\"create_request\":{\"key\":\"" + base64(prefix) + "\",\"range_end\":\"" + base64(end) + "\"}}";
    std::string pending;
    failover::net::StreamOptions options;
    options.head_timeout = milliseconds(10'000);
    // Named, not a temporary inside the co_await (GCC 12 frees those twice).
    std::function<bool(std::string_view)> on_piece = [this, s, &pending](std::string_view piece) {
      const Clock::time_point now = Clock::now();
      pending += piece;
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
        const std::string_view line(pending.data(), nl);
        if (line.find("\"created\":true") != std::string_view::npos) watch_ready_[s] = 1;
        if (line.find("\"events\"") != std::string_view::npos) notified(s, now);
      }
      return !stopping_ && pending.size() < (1u << 20);
    };
    std::string host_port = host_port_;
    // Ends only on an error or a cancelled watch: either way, watch again.
    co_await http_.stream(std::move(host_port), std::move(req), std::move(on_piece), options);
    if (stopping_) break;
    ++watch_errors_;
    co_await sleep_until(Clock::now() + milliseconds(100));
  }
}

void LoadGen::notified(int s, Clock::time_point now) {
  ChangeState& ch = change_[s];
  if (ch.pending && !ch.notified) {
    ch.notified = true;
    ch.told = now;
    if (ch.replied) record_change(ch);
  } else if (now >= window_start_ && now < window_end_) {
    ++unsolicited_;  // e.g. an instance that expired: the server fell behind
  }
}

// Notified before the writer had its reply counts as 0 from the reply.
void LoadGen::record_change(ChangeState& ch) {
  notify_from_reply_.add(std::max(Clock::duration::zero(), ch.told - ch.reply));
  notify_from_send_.add(ch.told - ch.sent);
  ch.pending = false;
}

// Once every 1/changes_per_second inside the window, one watched service
// gets (or loses) a spare instance; its watcher must tell us.
asio::awaitable<void> LoadGen::changer() {
  Conn c(io_.get_executor(), endpoint_);
  const auto every = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o_.changes_per_second));
  std::vector<char> has_spare(o_.services, 0);
  int next = 0;
  for (Clock::time_point at = window_start_ + every / 2; at < window_end_ && !stopping_; at += every) {
    co_await sleep_until(at);
    const int s = next++ % std::max(1, o_.watchers);
    ChangeState& ch = change_[s];
    if (ch.pending) ++missed_;
    ch = ChangeState{};
    ch.pending = true;
    ++changes_;
    const std::string id = "spare-" + std::to_string(s);
    Request req;
    if (!etcd_) {
      const std::string target = "/v1/services/" + service(s) + "/instances/" + id;
      // A long ttl: the spare gets no heartbeats and must not expire mid-run.
      req = has_spare[s] ? make(http::verb::delete_, target, "")
                         : make(http::verb::put, target, "{\"address\":\"10.9.9.9\",\"port\":80,\"ttl_ms\":600000}");
    } else {
      const std::string key = base64(etcd_prefix(s) + "spare/" + id);
      req = has_spare[s] ? make(http::verb::post, "/v3/kv/deleterange", "{\"key\":\"" + key + "\"}")
                         : make(http::verb::post, "/v3/kv/put", "{\"key\":\"" + key + "\",\"value\":\"" + base64("x") + "\"}");
    }
    Response res;
    ch.sent = Clock::now();
    const error_code ec = co_await c.exchange(req, res, milliseconds(10'000));
    ch.reply = Clock::now();
    ch.replied = true;
    if (ec || res.result_int() >= 300) {
      ++change_errors_;
      ch.pending = false;
      continue;
    }
    has_spare[s] = !has_spare[s];
    if (ch.notified && ch.pending) record_change(ch);
  }
}

asio::awaitable<void> LoadGen::run() {
  const Clock::time_point setup_start = Clock::now();
  std::cerr << "loadgen: " << o_.target << " at " << host_port_ << ": registering " << o_.instances
            << " instances over " << o_.connections << " connections\n";
  asio::co_spawn(io_, dispatcher(), asio::detached);
  for (int k = 0; k < o_.connections; ++k) asio::co_spawn(io_, worker(), asio::detached);
  const Clock::time_point setup_deadline = setup_start + o_.setup_limit;
  while (first_done_ < o_.instances && Clock::now() < setup_deadline)
    co_await sleep_until(Clock::now() + milliseconds(20));
  const double setup_s = std::chrono::duration<double>(Clock::now() - setup_start).count();
  setting_up_ = false;
  std::cerr << "loadgen: " << registered_count_ << " registered (" << register_errors_ << " failed) in "
            << setup_s << " s; starting " << o_.watchers << " watchers\n";

  for (int s = 0; s < o_.watchers; ++s)
    asio::co_spawn(io_, etcd_ ? etcd_watcher(s) : failover_watcher(s), asio::detached);
  const Clock::time_point ready_deadline = Clock::now() + milliseconds(10'000);
  auto ready = [&] { return std::count(watch_ready_.begin(), watch_ready_.end(), 1) >= o_.watchers; };
  while (!ready() && Clock::now() < ready_deadline) co_await sleep_until(Clock::now() + milliseconds(10));
  const long long watchers_ready = std::count(watch_ready_.begin(), watch_ready_.end(), 1);

  // Warm up until a whole warm-up passes with no lease lost (set-up may
  // have starved some), within the settle limit: a server that cannot keep
  // up never settles, and that is a result, not a reason to wait longer.
  const Clock::time_point settle_deadline = Clock::now() + o_.settle_limit;
  for (long long lost = -1; lost != lost_ || registered_count_ < o_.instances;) {
    if (lost >= 0 && Clock::now() >= settle_deadline) break;
    lost = lost_;
    co_await sleep_until(Clock::now() + o_.warmup);
  }
  const long long lost_in_setup = lost_;
  window_start_ = Clock::now();
  window_end_ = window_start_ + o_.duration;
  const double cpu_start = cpu_seconds();
  std::cout << "MEASURE START" << std::endl;
  asio::co_spawn(io_, changer(), asio::detached);
  co_await sleep_until(window_end_);
  std::cout << "MEASURE END" << std::endl;
  const double loadgen_cpu = (cpu_seconds() - cpu_start) / std::chrono::duration<double>(o_.duration).count();

  // Drain: what was due in the window still gets its answer (bounded), and
  // the last change its notification.
  draining_ = true;
  dispatching_ = false;
  wake_workers(Clock::now());
  const Clock::time_point drain_deadline = Clock::now() + milliseconds(5'000);
  while ((!queue_.empty() || in_flight_ > 0) && Clock::now() < drain_deadline) {
    wake_workers(Clock::now());
    co_await sleep_until(Clock::now() + milliseconds(10));
  }
  const Clock::time_point notify_deadline = Clock::now() + milliseconds(1'000);
  auto changes_pending = [&] {
    return std::any_of(change_.begin(), change_.end(), [](const ChangeState& c) { return c.pending; });
  };
  while (changes_pending() && Clock::now() < notify_deadline) co_await sleep_until(Clock::now() + milliseconds(5));
  for (const ChangeState& c : change_) missed_ += c.pending;
  stopping_ = true;

  std::string extra = ",\"registered\":" + std::to_string(registered_count_) +
                      ",\"register_errors\":" + std::to_string(register_errors_) +
                      ",\"setup_s\":" + std::to_string(setup_s) +
                      ",\"lost_in_setup\":" + std::to_string(lost_in_setup) +
                      ",\"lost\":" + std::to_string(lost_ - lost_in_setup) +
                      ",\"reregistered\":" + std::to_string(reregistered_) +
                      ",\"watchers_ready\":" + std::to_string(watchers_ready) +
                      ",\"unfinished\":" + std::to_string(queue_.size() + in_flight_) + "}";
  std::string out = results_json(std::chrono::duration<double>(o_.duration).count(), loadgen_cpu);
  out.pop_back();
  std::cout << out << extra << std::endl;
  io_.stop();
}

std::string LoadGen::results_json(double window_s, double loadgen_cpu) {
  char head[512];
  std::snprintf(head, sizeof head,
                "{\"target\":\"%s\",\"batch\":%d,\"instances\":%d,\"services\":%d,\"connections\":%d,"
                "\"rate_per_instance\":%.3f,\"window_s\":%.3f,\"loadgen_cpu\":%.4f,"
                "\"heartbeats\":{\"scheduled\":%lld,\"sent\":%lld,\"ok\":%lld,\"rejected\":%lld,\"errors\":%lld,"
                "\"skipped\":%lld,\"unregistered\":%lld,\"rate\":%.1f},",
                o_.target.c_str(), o_.batch, o_.instances, o_.services, o_.connections, o_.rate, window_s,
                loadgen_cpu, hb_.scheduled, hb_.sent, hb_.ok, hb_.rejected, hb_.errors, hb_.skipped,
                hb_.unregistered, static_cast<double>(hb_.ok) / window_s);
  char tail[256];
  std::snprintf(tail, sizeof tail,
                "\"changes\":%lld,\"change_errors\":%lld,\"missed\":%lld,\"unsolicited\":%lld,\"watch_errors\":%lld}",
                changes_, change_errors_, missed_, unsolicited_, watch_errors_);
  return std::string(head) + "\"latency\":" + latency_.json() + ",\"lag\":" + lag_.json() +
         ",\"request\":" + requests_.json() + ",\"notify\":" + notify_from_reply_.json() +
         ",\"notify_from_send\":" + notify_from_send_.json() + "," + tail;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  const failover::core::Result<failover::net::HttpUrl> url = failover::net::parse_http_url(o.url);
  if (!url) usage("bad --url: " + url.error().message);
  const auto ep = failover::net::resolve_endpoint(url->host_port);
  if (!ep) usage("cannot resolve " + url->host_port);
  asio::io_context io{1};
  LoadGen gen(io, o, *ep, url->host_port);
  asio::co_spawn(io, gen.run(), asio::detached);
  // A hard bound on the whole run, whatever the server does.
  asio::steady_timer limit(io, o.setup_limit + milliseconds(10'000) + o.settle_limit + 2 * o.warmup + o.duration +
                                   milliseconds(10'000));
  limit.async_wait([&](error_code ec) {
    if (!ec) {
      std::cerr << "loadgen: overall time limit reached\n";
      std::exit(1);
    }
  });
  io.run();
  return 0;
}
