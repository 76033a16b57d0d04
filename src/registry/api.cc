#include "registry/api.h"

#include <stop_token>

#include "registry/replication.h"

namespace failover::registry {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

namespace {

// Most heartbeats one POST /v1/heartbeats may carry.
constexpr std::size_t kMaxBatch = 10'000;

bool is_write(std::string_view method) { return method == "PUT" || method == "POST" || method == "DELETE"; }

// Compares without stopping at the first difference, so the time taken
// does not tell an attacker how much of the token was right.
bool same_secret(std::string_view given, std::string_view token) {
  if (given.size() != token.size() || token.empty()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i) diff |= given[i] ^ token[i];
  return diff == 0;
}

HttpResponse status_error(Status s, std::string_view what) {
  switch (s) {
    case Status::kNotFound: return HttpResponse::error(404, std::string(what) + " not found");
    case Status::kTooMany: return HttpResponse::error(429, "limit reached: too many services or instances");
    case Status::kUnavailable: return HttpResponse::error(503, "backend unavailable");
    default: return HttpResponse::error(500, "unexpected status");
  }
}

HttpResponse method_not_allowed(std::string_view allowed) {
  HttpResponse r = HttpResponse::error(405, "method not allowed (use " + std::string(allowed) + ")");
  r.headers.emplace_back("Allow", std::string(allowed));
  return r;
}

std::string index_json(std::uint64_t index) { return "{\"index\":" + std::to_string(index) + "}\n"; }

}  // namespace

Api::Api(const core::Clock& clock, Registry& registry, Backend& backend,
         const RegistryConfig& config, Replication* replication)
    : clock_(clock), registry_(registry), backend_(backend), config_(config),
      replication_(replication) {
  instance_limits_.min_ttl = config.options.min_ttl;
  instance_limits_.max_ttl = config.options.max_ttl;
  instance_limits_.default_ttl = config.default_ttl;
}

bool Api::authorized(const HttpRequest& request) const {
  if (config_.token.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view auth = request.header("Authorization");
  if (auth.substr(0, kBearer.size()) != kBearer) return false;
  return same_secret(auth.substr(kBearer.size()), config_.token);
}

asio::awaitable<HttpResponse> Api::handle(HttpRequest request) {
  ++counters_.requests;
  HttpResponse r = co_await route(request);
  if (r.status == 400) ++counters_.bad_requests;
  co_return r;
}

asio::awaitable<HttpResponse> Api::route(const HttpRequest& request) {
  const core::Result<Route> parsed = parse_route(request.path);
  if (!parsed) {
    if (parsed.is(core::ErrorCode::kNotFound)) co_return HttpResponse::error(404, "no such API path: " + request.path);
    co_return HttpResponse::error(400, parsed.error().message);
  }
  const Route& r = *parsed;
  const std::string_view method = request.method;
  if (is_write(method) && !authorized(request)) {
    ++counters_.unauthorized;
    HttpResponse denied = HttpResponse::error(401, "writes need Authorization: Bearer TOKEN");
    denied.headers.emplace_back("WWW-Authenticate", "Bearer");
    co_return denied;
  }
  using Kind = Route::Kind;
  switch (r.kind) {
    case Kind::kServices:
      if (method != "GET") co_return method_not_allowed("GET");
      co_return services();
    case Kind::kService:
      if (method != "GET") co_return method_not_allowed("GET");
      co_return co_await get_service(r.service, request.query);
    case Kind::kInstance: {
      if (method == "DELETE") {
        const Status s = co_await backend_.remove(r.service, r.id);
        if (s != Status::kOk) co_return status_error(s, "instance " + r.id + " of " + r.service);
        co_return HttpResponse::json(200, index_json(registry_.index()));
      }
      if (method != "PUT") co_return method_not_allowed("PUT, DELETE");
      const core::Result<InstanceSpec> spec = parse_instance(request.body, instance_limits_);
      if (!spec) co_return HttpResponse::error(400, spec.error().message);
      const Status s = co_await backend_.put(r.service, r.id, *spec);
      if (s != Status::kOk && s != Status::kCreated) co_return status_error(s, "service " + r.service);
      co_return HttpResponse::json(s == Status::kCreated ? 201 : 200, index_json(registry_.index()));
    }
    case Kind::kHeartbeat: {
      if (method != "PUT") co_return method_not_allowed("PUT");
      const std::optional<bool> healthy = parse_heartbeat_query(request.query);
      if (!healthy) co_return HttpResponse::error(400, "a heartbeat takes only ?healthy=false (a failed check)");
      // One co_await a statement: GCC 12 mishandles them in a ?: expression.
      Status s = Status::kOk;
      if (*healthy) s = co_await backend_.heartbeat(r.service, r.id);
      else s = co_await backend_.fail(r.service, r.id);
      if (s != Status::kOk) co_return status_error(s, "instance " + r.id + " of " + r.service);
      co_return HttpResponse::json(200, "{}\n");
    }
    case Kind::kHeartbeats:
      if (method != "POST") co_return method_not_allowed("POST");
      co_return co_await heartbeats(request);
    case Kind::kReplicate:
      if (method != "POST") co_return method_not_allowed("POST");
      co_return replicate(request);
    case Kind::kDump:
      if (method != "GET") co_return method_not_allowed("GET");
      co_return dump();
  }
  co_return HttpResponse::error(404, "no such API path");
}

HttpResponse Api::services() const {
  std::string out = "{\"index\":" + std::to_string(registry_.index()) + ",\"services\":[";
  bool first = true;
  for (const auto& [name, count] : registry_.services()) {
    if (!first) out += ',';
    first = false;
    out += "{\"name\":" + net::json_quote(name) + ",\"instances\":" + std::to_string(count) + '}';
  }
  out += "]}\n";
  return HttpResponse::json(200, std::move(out));
}

// A blocking query parks on the registry's watch of this one service and a
// timer; whichever comes first answers. The index in the query makes it
// safe: a change that happened since the caller's last answer has a higher
// index, so it is answered at once instead of being missed.
asio::awaitable<HttpResponse> Api::get_service(const std::string& service, std::string_view query) {
  const core::Result<ServiceQuery> q = parse_service_query(query, config_.max_wait);
  if (!q) co_return HttpResponse::error(400, q.error().message);
  if (q->index) {
    ++counters_.blocking_queries;
    // Index 0 asks for the state now (as Consul's); an index from the
    // future (another peer's, or from before our restart) is answered at
    // once too, so the caller learns our numbering.
    if (*q->index > 0 && *q->index <= registry_.index()) {
      // The watch fires on this thread (the registry's), as the clock requires.
      std::stop_source changed;
      const Registry::WatchId id = registry_.watch(service, *q->index, [&changed] { changed.request_stop(); });
      if (id != 0) {
        struct Unwatch {
          Registry& r;
          Registry::WatchId id;
          int& waiting;
          ~Unwatch() { r.unwatch(id); --waiting; }
        } unwatch{registry_, id, counters_.waiting};
        ++counters_.waiting;
        co_await clock_.sleep_for(q->wait, changed.get_token());
      }
    }
  }
  const std::optional<ServiceView> view = registry_.query(service, !q->all);
  if (!view) co_return HttpResponse::error(404, "service " + service + " not found");
  HttpResponse r = HttpResponse::json(200, service_json(*view));
  r.headers.emplace_back("X-Registry-Index", std::to_string(view->index));
  co_return r;
}

asio::awaitable<HttpResponse> Api::heartbeats(const HttpRequest& request) {
  const auto keys = parse_heartbeats(request.body, kMaxBatch);
  if (!keys) co_return HttpResponse::error(400, keys.error().message);
  std::size_t renewed = 0;
  std::string unknown;
  for (const InstanceKey& k : *keys) {
    const Status s = co_await backend_.heartbeat(k.service, k.id);
    if (s == Status::kOk) {
      ++renewed;
      continue;
    }
    if (s == Status::kUnavailable) co_return status_error(s, "");
    if (!unknown.empty()) unknown += ',';
    unknown += "{\"service\":" + net::json_quote(k.service) + ",\"id\":" + net::json_quote(k.id) + '}';
  }
  co_return HttpResponse::json(
      200, "{\"renewed\":" + std::to_string(renewed) + ",\"unknown\":[" + unknown + "]}\n");
}

HttpResponse Api::replicate(const HttpRequest& request) {
  const auto changes = parse_changes(request.body, instance_limits_);
  if (!changes) return HttpResponse::error(400, changes.error().message);
  for (const Change& c : *changes) registry_.apply(c);
  if (replication_) replication_->note_received(changes->size());
  return HttpResponse::json(200, "{\"applied\":" + std::to_string(changes->size()) + "}\n");
}

HttpResponse Api::dump() const { return HttpResponse::json(200, changes_json(registry_.dump())); }

}  // namespace failover::registry
