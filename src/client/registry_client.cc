#include "client/registry_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <optional>
#include <stdexcept>

#include "core/units.h"
#include "net/http_client.h"
#include "net/url.h"

namespace failover::client {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

// Names go into the URL path unencoded: the registry's server does not
// percent-decode, so anything that would need encoding is refused here
// rather than registered under a mangled name.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%';
  });
}

std::string instance_path(const std::string& service, const std::string& id) {
  return "/v1/services/" + service + "/instances/" + id;
}

core::Error rejected(std::string why) { return core::Error::invalid(std::move(why)); }
core::Error bad_reply(std::string why) { return core::Error::invalid(std::move(why)); }

// The registry's {"error":"..."} message, else the start of the body.
std::string message_of(const net::ClientResponse& res) {
  boost::system::error_code ec;
  const auto v = json::parse(res.body, ec);
  if (!ec && v.is_object())
    if (const auto* e = v.as_object().if_contains("error"); e && e->is_string())
      return std::string(e->as_string());
  return res.body.substr(0, 200);
}

std::optional<std::uint64_t> as_u64(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
  return std::nullopt;
}

std::optional<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<ServiceInstance> parse_instance(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  const auto* id = o.if_contains("id");
  const auto* address = o.if_contains("address");
  const auto port = as_u64(o.if_contains("port"));
  if (!id || !id->is_string() || !address || !address->is_string() || !port || *port > 65535)
    return std::nullopt;
  ServiceInstance out;
  out.id = std::string(id->as_string());
  out.address = std::string(address->as_string());
  out.port = static_cast<int>(*port);
  if (const auto* meta = o.if_contains("meta")) {
    if (!meta->is_object()) return std::nullopt;
    out.meta = json::serialize(*meta);
  }
  if (const auto* healthy = o.if_contains("healthy")) {
    if (!healthy->is_bool()) return std::nullopt;
    out.healthy = healthy->as_bool();
  }
  return out;
}

// {"index":N,"protected":false,"healthy_ratio":1.0,"instances":[...]};
// "protected" and "healthy_ratio" may be missing (older or etcd-backed nodes).
std::optional<ServiceState> parse_service(std::string_view body) {
  const auto o = parse_object(body);
  if (!o) return std::nullopt;
  ServiceState out;
  const auto index = as_u64(o->if_contains("index"));
  const auto* instances = o->if_contains("instances");
  if (!index || !instances || !instances->is_array()) return std::nullopt;
  out.index = *index;
  if (const auto* p = o->if_contains("protected")) {
    if (!p->is_bool()) return std::nullopt;
    out.protected_mode = p->as_bool();
  }
  if (const auto* ratio = o->if_contains("healthy_ratio")) {
    if (!ratio->is_number()) return std::nullopt;
    out.healthy_ratio = ratio->to_number<double>();
  }
  for (const auto& v : instances->as_array()) {
    auto instance = parse_instance(v);
    if (!instance) return std::nullopt;
    out.instances.push_back(std::move(*instance));
  }
  return out;
}

}  // namespace

const ServiceState& state_of(const ServiceResult& r) {
  static const ServiceState kEmpty;
  return r ? *r : kEmpty;
}

struct RegistryClient::Impl {
  Impl(asio::any_io_executor ex, std::vector<std::string> raw, std::string tok, RegistryClientOptions opts)
      : executor(ex),
        // Each call's deadline is the options' clock's: a test's ManualClock decides it.
        http(ex, {}, opts.clock ? *opts.clock : core::SteadyClock::instance()),
        urls(std::move(raw)),
        token(std::move(tok)),
        options(opts) {
    if (urls.empty()) throw std::invalid_argument("registry client: no registry URL given");
    if (!options.clock) throw std::invalid_argument("registry client: no clock");
    for (const auto& u : urls) {
      auto parsed_url = net::parse_http_url(u);
      if (!parsed_url) throw std::invalid_argument("registry client: " + parsed_url.error().message);
      parsed.push_back(std::move(*parsed_url));
    }
  }

  struct Answer {
    int status = 0;
    std::string url;  // the one that answered
    std::string body;
  };

  // Sends one call, moving to the next URL when the current one fails
  // (transport error, timeout, 5xx), each URL at most once. Overlapping calls
  // may fail on the same URL; only the first moves current, so the second
  // does not skip a good URL.
  asio::awaitable<Result<Answer>> call(std::string method, std::string target, std::string body,
                               milliseconds timeout) {
    const bool write = method != "GET";
    const std::size_t n = parsed.size();
    const std::size_t start = current;
    std::string failures;
    bool last_timed_out = false;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t idx = (start + i) % n;
      net::ClientRequest req;
      req.method = method;
      req.target = parsed[idx].base_path + target;
      req.body = body;
      if (write && !token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
      auto res = co_await http.request(parsed[idx].host_port, std::move(req), timeout);
      if (res.is(core::ErrorCode::kCancelled)) {
        // Our caller gave up (cancelled watch): says nothing about the node.
        co_return core::Error::cancelled(urls[idx] + ": cancelled");
      }
      if (res && res->status < 500) {
        current = idx;
        const int status = res->status;
        if (status >= 200 && status < 300) co_return Answer{status, urls[idx], std::move(res->body)};
        std::string why = urls[idx] + ": " + std::to_string(status) + " " + message_of(*res);
        if (status == 404) co_return core::Error::not_found(std::move(why));
        if (status == 401 || status == 403) co_return core::Error::unauthorized(std::move(why));
        co_return core::Error::invalid(std::move(why));  // another 4xx; 1xx/3xx are not in the API
      }
      if (!failures.empty()) failures += "; ";
      failures += res ? urls[idx] + ": " + std::to_string(res->status) + " " + message_of(*res)
                      : urls[idx] + ": " + res.error().message;
      last_timed_out = res.is(core::ErrorCode::kTimeout);
      if (current == idx) current = (idx + 1) % n;
    }
    std::string why = "no registry answered: " + failures;
    if (last_timed_out) co_return core::Error::timeout(std::move(why));
    co_return core::Error::unavailable(std::move(why));
  }

  asio::awaitable<ServiceResult> query(std::string service, std::string target, milliseconds timeout,
                                       milliseconds not_found_delay) {
    auto answer = co_await call("GET", std::move(target), "", timeout);
    if (answer.is(core::ErrorCode::kNotFound)) {
      // The registry answers 404 for an unknown service at once, even to a
      // blocking query; wait here so that a watch loop does not spin.
      const auto cs = co_await asio::this_coro::cancellation_state;
      if (not_found_delay.count() > 0 && cs.cancelled() == asio::cancellation_type::none) {
        co_await options.clock->sleep_for(not_found_delay);
      }
      co_return answer.error();
    }
    if (!answer) co_return answer.error();
    auto state = parse_service(answer->body);
    if (!state) co_return bad_reply(answer->url + ": service " + service + ": not the JSON expected");
    co_return std::move(*state);
  }

  asio::any_io_executor executor;
  net::HttpClient http;
  std::vector<std::string> urls;   // as given, for current() and messages
  std::vector<net::HttpUrl> parsed;
  std::string token;
  RegistryClientOptions options;
  std::size_t current = 0;
};

RegistryClient::RegistryClient(asio::any_io_executor executor, std::vector<std::string> registry_urls,
                               std::string token, RegistryClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(registry_urls), std::move(token),
                                   options)) {}

RegistryClient::~RegistryClient() = default;

const std::string& RegistryClient::current() const { return impl_->urls[impl_->current]; }

asio::awaitable<Result<Registered>> RegistryClient::register_instance(std::string service, std::string id,
                                                                  InstanceSpec spec) {
  if (!valid_name(service) || !valid_name(id))
    co_return rejected("bad service or id: \"" + service + "\" / \"" + id + "\"");
  const auto meta = parse_object(spec.meta);
  if (!meta) co_return rejected("meta of " + service + "/" + id + " is not a JSON object");
  const json::object body{{"address", spec.address},
                          {"port", spec.port},
                          {"ttl_ms", spec.ttl.count()},
                          {"meta", *meta}};
  auto answer = co_await impl_->call("PUT", instance_path(service, id), json::serialize(body),
                                     impl_->options.request_timeout);
  if (!answer) co_return answer.error();
  // The index is informative: a 2xx registered the instance even if a
  // node's reply lacks it (then 0).
  Registered r;
  r.created = answer->status == 201;
  if (const auto o = parse_object(answer->body)) r.index = as_u64(o->if_contains("index")).value_or(0);
  co_return r;
}

asio::awaitable<Result<void>> RegistryClient::heartbeat(std::string service, std::string id) {
  return beat(std::move(service), std::move(id), "/heartbeat");
}

asio::awaitable<Result<void>> RegistryClient::report_failed(std::string service, std::string id) {
  return beat(std::move(service), std::move(id), "/heartbeat?healthy=false");
}

asio::awaitable<Result<void>> RegistryClient::beat(std::string service, std::string id, std::string_view suffix) {
  if (!valid_name(service) || !valid_name(id))
    co_return rejected("bad service or id: \"" + service + "\" / \"" + id + "\"");
  auto answer = co_await impl_->call("PUT", instance_path(service, id) + std::string(suffix), "",
                                     impl_->options.request_timeout);
  if (!answer) co_return answer.error();
  co_return core::ok();
}

asio::awaitable<Result<HeartbeatMany>> RegistryClient::heartbeat_many(std::vector<InstanceKey> instances) {
  json::array list;
  for (const auto& k : instances) {
    if (!valid_name(k.service) || !valid_name(k.id))
      co_return rejected("bad service or id: \"" + k.service + "\" / \"" + k.id + "\"");
    list.push_back(json::object{{"service", k.service}, {"id", k.id}});
  }
  const json::object body{{"instances", std::move(list)}};
  auto answer = co_await impl_->call("POST", "/v1/heartbeats", json::serialize(body),
                                     impl_->options.request_timeout);
  if (!answer) co_return answer.error();
  HeartbeatMany r;
  const auto o = parse_object(answer->body);
  const auto renewed = o ? as_u64(o->if_contains("renewed")) : std::nullopt;
  if (!renewed) co_return bad_reply("heartbeats: reply without \"renewed\"");
  r.renewed = static_cast<int>(*renewed);
  if (const auto* unknown = o->if_contains("unknown")) {
    if (!unknown->is_array()) co_return bad_reply("heartbeats: bad \"unknown\"");
    for (const auto& v : unknown->as_array()) {
      const auto* e = v.if_object();
      const auto* service = e ? e->if_contains("service") : nullptr;
      const auto* id = e ? e->if_contains("id") : nullptr;
      if (!service || !service->is_string() || !id || !id->is_string())
        co_return bad_reply("heartbeats: bad entry in \"unknown\"");
      r.unknown.push_back({std::string(service->as_string()), std::string(id->as_string())});
    }
  }
  co_return r;
}

asio::awaitable<Result<void>> RegistryClient::deregister(std::string service, std::string id) {
  if (!valid_name(service) || !valid_name(id))
    co_return rejected("bad service or id: \"" + service + "\" / \"" + id + "\"");
  auto answer = co_await impl_->call("DELETE", instance_path(service, id), "",
                                     impl_->options.request_timeout);
  if (!answer) co_return answer.error();
  co_return core::ok();
}

asio::awaitable<ServiceResult> RegistryClient::get(std::string service) {
  if (!valid_name(service)) co_return rejected("bad service name: \"" + service + "\"");
  co_return co_await impl_->query(service, "/v1/services/" + service, impl_->options.request_timeout,
                                  milliseconds(0));
}

asio::awaitable<ServiceResult> RegistryClient::watch(std::string service, std::uint64_t index,
                                                     milliseconds wait) {
  if (!valid_name(service)) co_return rejected("bad service name: \"" + service + "\"");
  wait = std::max(wait, milliseconds(1));  // the registry refuses wait=0 with a 400
  const std::string target = "/v1/services/" + service + "?index=" + std::to_string(index) +
                             "&wait=" + core::format_duration(wait);
  co_return co_await impl_->query(service, target, wait + impl_->options.watch_margin,
                                  std::min(wait, impl_->options.unknown_service_delay));
}

}  // namespace failover::client
