#include "client/store_client.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <charconv>
#include <random>
#include <stdexcept>

#include "net/http_client.h"
#include "net/url.h"

namespace failover::client {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

// What one HTTP exchange gave: a response, or why none came.
struct Attempt {
  std::optional<net::ClientResponse> response;
  std::string error;  // when no response: "connect ...: Connection refused"
};

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// ETag: "7" -> 7.
std::optional<std::uint64_t> parse_etag(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return parse_u64(s);
}

// The node's {"error":"..."} message, else the start of the body.
std::string message_of(const net::ClientResponse& res) {
  boost::system::error_code ec;
  const auto v = json::parse(res.body, ec);
  if (!ec && v.is_object())
    if (const auto* e = v.as_object().if_contains("error"); e && e->is_string()) return std::string(e->as_string());
  return res.body.substr(0, 200);
}

std::optional<std::string> base64_decode(std::string_view in) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t n = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      const int s = sextet(c);
      if (s < 0 || pad) return std::nullopt;
      n = (n << 6) | static_cast<std::uint32_t>(s);
    }
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

core::Result<StorePage> parse_page(const std::string& body) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return core::Error::invalid("the list reply is not a JSON object");
  const json::object& o = v.as_object();
  const auto* items = o.if_contains("items");
  const auto* more = o.if_contains("more");
  if (!items || !items->is_array() || !more || !more->is_bool())
    return core::Error::invalid("the list reply lacks items or more");
  StorePage page;
  page.more = more->as_bool();
  if (const auto* next = o.if_contains("next"); next && next->is_string()) page.next = std::string(next->as_string());
  for (const json::value& item : items->as_array()) {
    const json::object* i = item.if_object();
    const json::value* key = i ? i->if_contains("key") : nullptr;
    const json::value* version = i ? i->if_contains("version") : nullptr;
    const bool version_ok = version && (version->is_uint64() || (version->is_int64() && version->as_int64() >= 0));
    if (!key || !key->is_string() || !version_ok)
      return core::Error::invalid("a list item lacks key or version");
    StoreItem out{std::string(key->as_string()), "", version->to_number<std::uint64_t>()};
    if (const auto* value = i->if_contains("value"); value && value->is_string()) {
      out.value = std::string(value->as_string());
    } else if (const auto* b64 = i->if_contains("value_base64"); b64 && b64->is_string()) {
      auto decoded = base64_decode(b64->as_string());
      if (!decoded) return core::Error::invalid("a list item's value_base64 is not base64");
      out.value = std::move(*decoded);
    } else if (const auto* bytes = i->if_contains("value_bytes"); bytes && bytes->is_uint64()) {
      out.value_bytes = bytes->as_uint64();
    } else if (bytes && bytes->is_int64() && bytes->as_int64() >= 0) {
      out.value_bytes = static_cast<std::uint64_t>(bytes->as_int64());
    } else {
      return core::Error::invalid("a list item has no value");
    }
    page.items.push_back(std::move(out));
  }
  return page;
}

// A 2xx or 4xx answer of the API, as the caller's error when it is one.
std::optional<core::Error> error_of(const std::string& where, const net::ClientResponse& res) {
  const int s = res.status;
  if (s >= 200 && s < 300) return std::nullopt;
  const std::string why = where + ": " + std::to_string(s) + " " + message_of(res);
  if (s == 404) return core::Error::not_found(why);
  if (s == 412) return core::Error::conflict(why);
  if (s >= 400 && s < 500) return core::Error::invalid(why);
  return core::Error::unavailable(why);
}

// A status that says "this node cannot serve now, another might".
bool try_elsewhere(int status) { return status == 502 || status == 503 || status == 504; }

}  // namespace

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

struct StoreClient::Impl {
  // Each attempt's own timeout runs on the steady clock; the call's
  // deadline, the retries and their waits on options.clock.
  // Bodies up to a 64 MiB value and its JSON around it.
  Impl(asio::any_io_executor ex, StoreClientOptions o) : http(ex, http_options()), options(std::move(o)) {}
  static net::HttpClientOptions http_options() {
    net::HttpClientOptions h;
    h.max_body_size = (64u << 20) + (1u << 20);
    return h;
  }

  net::HttpClient http;
  StoreClientOptions options;
  std::vector<net::HttpUrl> nodes;
  std::vector<std::string> urls;
  std::size_t current = 0;
  std::mt19937_64 random{std::random_device{}()};

  std::string new_idempotency_key() {
    if (options.idempotency_key) return options.idempotency_key();
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(random()),
                  static_cast<unsigned long long>(random()));
    return buf;
  }

  // The one place that speaks to net::HttpClient, so that a change of its
  // result type is a change here only.
  asio::awaitable<Attempt> send(const std::string& host_port, net::ClientRequest req, milliseconds timeout) {
    core::Result<net::ClientResponse> r = co_await http.request(host_port, std::move(req), timeout);
    Attempt a;
    if (r.ok())
      a.response = std::move(*r);
    else
      a.error = r.is(core::ErrorCode::kTimeout) && r.error().message.empty()
                    ? "no answer within " + std::to_string(timeout.count()) + "ms"
                    : r.error().message;
    co_return a;
  }

  // Sends `req` (target relative to a node's base path) until a node gives
  // an answer that is not "try elsewhere", within the deadline.
  asio::awaitable<core::Result<net::ClientResponse>> call(net::ClientRequest req) {
    const core::Clock& clock = *options.clock;
    const core::TimePoint deadline = clock.now() + options.deadline;
    const std::string path = req.target;
    std::size_t node = current;
    std::string host = nodes[node].host_port;
    req.target = nodes[node].base_path + path;
    std::size_t failed_in_round = 0;  // nodes that could not serve since the last wait
    std::optional<milliseconds> retry_after;
    milliseconds backoff = options.first_backoff;
    int redirects = 0;
    std::string last_error = "no attempt";
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock.now());
      if (left <= milliseconds(0))
        co_return core::Error::timeout("no answer within " + std::to_string(options.deadline.count()) +
                                       "ms; last: " + last_error);
      Attempt a = co_await send(host, req, std::min(options.request_timeout, left));
      if (a.response && (a.response->status == 307 || a.response->status == 308) && redirects < options.max_redirects) {
        const std::string_view location = a.response->header("Location");
        const auto scheme_end = location.find("://");
        const auto path_start = scheme_end == location.npos ? location.npos : location.find('/', scheme_end + 3);
        const core::Result<net::HttpUrl> target =
            path_start == location.npos ? core::Result<net::HttpUrl>(core::Error::invalid("no path"))
                                        : net::parse_http_url(location.substr(0, path_start));
        if (target.ok()) {
          ++redirects;
          host = target->host_port;
          req.target = std::string(location.substr(path_start));
          continue;
        }
        last_error = host + ": a redirect without a usable Location";
      } else if (a.response && !try_elsewhere(a.response->status) && a.response->status != 307 &&
                 a.response->status != 308) {
        remember(host);
        co_return std::move(*a.response);
      } else if (a.response && a.response->status == 503) {
        const auto seconds = parse_u64(a.response->header("Retry-After"));
        const milliseconds wait = seconds ? milliseconds(*seconds * 1000) : milliseconds(1000);
        retry_after = std::max(retry_after.value_or(milliseconds(0)), wait);
        const std::string_view reason = a.response->header("X-Reason");
        last_error = host + ": 503 " + (reason.empty() ? message_of(*a.response) : std::string(reason));
      } else if (a.response) {
        last_error = host + ": " + std::to_string(a.response->status) + " " + message_of(*a.response);
      } else {
        last_error = host + ": " + a.error;
      }
      // This node cannot serve now: the next one, after a wait once all failed.
      redirects = 0;
      node = (node + 1) % nodes.size();
      host = nodes[node].host_port;
      req.target = nodes[node].base_path + path;
      if (++failed_in_round < nodes.size()) continue;
      failed_in_round = 0;
      milliseconds wait = backoff;
      if (retry_after) {
        wait = std::min(*retry_after, options.max_retry_after);
      } else {
        backoff = std::min(backoff * 2, options.max_backoff);
      }
      retry_after.reset();
      const auto until = std::min(deadline, clock.now() + wait);
      co_await clock.sleep_until(until);
    }
  }

  // The next call starts at the node that answered, when it is in the list.
  void remember(const std::string& host_port) {
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].host_port == host_port) current = i;
  }

  static void add_condition(net::ClientRequest& req, const StoreCondition& c) {
    if (c.if_match) req.headers.emplace_back("If-Match", "\"" + std::to_string(*c.if_match) + "\"");
    if (c.if_none_match) req.headers.emplace_back("If-None-Match", "*");
  }

  asio::awaitable<core::Result<StoreWrite>> write(net::ClientRequest req, const StoreCondition& c) {
    add_condition(req, c);
    // The same on every retry.
    req.headers.emplace_back("Idempotency-Key", c.idempotency_key.empty() ? new_idempotency_key() : c.idempotency_key);
    auto res = co_await call(std::move(req));
    if (!res) co_return res.error();
    if (auto e = error_of("store", *res)) co_return *e;
    const auto version = parse_etag(res->header("ETag"));
    const auto epoch = parse_u64(res->header("X-Epoch"));
    const auto seq = parse_u64(res->header("X-Seq"));
    if (!version || !epoch || !seq) co_return core::Error::invalid("a write reply without ETag, X-Epoch or X-Seq");
    co_return StoreWrite{*version, *epoch, *seq};
  }
};

StoreClient::StoreClient(asio::any_io_executor executor, std::vector<std::string> node_urls,
                         StoreClientOptions options)
    : impl_(std::make_unique<Impl>(executor, std::move(options))) {
  if (node_urls.empty()) throw std::invalid_argument("the store client needs at least one node URL");
  for (const auto& u : node_urls) {
    auto parsed = net::parse_http_url(u);
    if (!parsed.ok()) throw std::invalid_argument("store node URL \"" + u + "\": " + parsed.error().message);
    impl_->nodes.push_back(*parsed);
  }
  impl_->urls = std::move(node_urls);
}

StoreClient::~StoreClient() = default;

const std::string& StoreClient::current() const { return impl_->urls[impl_->current]; }

asio::awaitable<core::Result<StoreValue>> StoreClient::get(std::string key, bool stale) {
  if (key.empty()) co_return core::Error::invalid("the key is empty");
  net::ClientRequest req;
  req.method = "GET";
  req.target = "/kv/" + percent_encode(key) + (stale ? "?stale=1" : "");
  auto res = co_await impl_->call(std::move(req));
  if (!res) co_return res.error();
  if (auto e = error_of("store", *res)) co_return *e;
  const auto version = parse_etag(res->header("ETag"));
  if (!version) co_return core::Error::invalid("a read reply without an ETag");
  co_return StoreValue{std::move(res->body), *version};
}

asio::awaitable<core::Result<StoreWrite>> StoreClient::put(std::string key, std::string value,
                                                           StoreCondition condition) {
  if (key.empty()) co_return core::Error::invalid("the key is empty");
  net::ClientRequest req;
  req.method = "PUT";
  req.target = "/kv/" + percent_encode(key);
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  req.body = std::move(value);
  auto r = co_await impl_->write(std::move(req), condition);
  co_return r;
}

asio::awaitable<core::Result<StoreWrite>> StoreClient::del(std::string key, StoreCondition condition) {
  if (key.empty()) co_return core::Error::invalid("the key is empty");
  net::ClientRequest req;
  req.method = "DELETE";
  req.target = "/kv/" + percent_encode(key);
  auto r = co_await impl_->write(std::move(req), condition);
  co_return r;
}

asio::awaitable<core::Result<StorePage>> StoreClient::list(std::string prefix, std::string after, std::size_t limit) {
  if (limit == 0 || limit > 1000) co_return core::Error::invalid("limit must be 1..1000");
  net::ClientRequest req;
  req.method = "GET";
  req.target = "/kv/?prefix=" + percent_encode(prefix) + "&after=" + percent_encode(after) +
               "&limit=" + std::to_string(limit);
  auto res = co_await impl_->call(std::move(req));
  if (!res) co_return res.error();
  if (auto e = error_of("store", *res)) co_return *e;
  auto page = parse_page(res->body);
  co_return page;
}

}  // namespace failover::client
