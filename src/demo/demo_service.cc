#include "demo/demo_service.h"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <spdlog/spdlog.h>

#include "client/store_client.h"
#include "core/config_error.h"
#include "net/endpoint.h"
#include "net/url.h"
#include "role/endpoints.h"
#include "role/runner.h"

namespace failover::demo {
namespace asio = boost::asio;

namespace {

constexpr std::string_view kKvPrefix = "/kv/";

// Requests by what happened to them, for /status and /metrics.
struct Counts {
  std::uint64_t get_ok = 0, get_not_found = 0, get_failed = 0;
  std::uint64_t put_ok = 0, put_failed = 0;
};

int status_of(const core::Error& e) {
  switch (e.code) {
    case core::ErrorCode::kNotFound: return 404;
    case core::ErrorCode::kConflict: return 412;
    case core::ErrorCode::kInvalid: return 400;
    default: return 503;  // the store did not answer in time: the caller may retry
  }
}

class DemoService {
 public:
  DemoService(asio::io_context& io, const DemoServiceOptions& o)
      : o_(o), store_(io.get_executor(), o.store, client::StoreClientOptions{.deadline = o.store_deadline}) {}

  asio::awaitable<net::HttpResponse> handle(net::HttpRequest req) {
    if (req.path == "/health") co_return net::HttpResponse::text(200, "ok\n");
    if (!req.path.starts_with(kKvPrefix)) co_return net::HttpResponse::error(404, "no such path: /kv/KEY, /health, /status, /metrics, /");
    auto key = net::percent_decode(std::string_view(req.path).substr(kKvPrefix.size()));
    if (!key || key->empty()) co_return net::HttpResponse::error(400, "the key is missing or badly escaped");
    if (req.method == "GET") co_return co_await get(std::move(*key));
    if (req.method == "PUT") co_return co_await put(std::move(*key), req);
    net::HttpResponse r = net::HttpResponse::error(405, "GET or PUT");
    r.headers.emplace_back("Allow", "GET, PUT");
    co_return r;
  }

  std::string status() const {
    boost::json::object s{{"role", "demo-service"}, {"version", FAILOVER_VERSION}, {"name", o_.name},
                          {"store_current", store_.current()}};
    boost::json::array nodes;
    for (const auto& u : o_.store) nodes.emplace_back(u);
    s["store"] = std::move(nodes);
    s["requests"] = {{"get_ok", counts_.get_ok}, {"get_not_found", counts_.get_not_found},
                     {"get_failed", counts_.get_failed}, {"put_ok", counts_.put_ok},
                     {"put_failed", counts_.put_failed}};
    return boost::json::serialize(s) + "\n";
  }

  void metrics(core::MetricsWriter& w) const {
    const char* help = "Requests served, by method and result";
    w.counter("failover_demo_requests_total", help, {{"method", "GET"}, {"result", "ok"}}, counts_.get_ok);
    w.counter("failover_demo_requests_total", help, {{"method", "GET"}, {"result", "not_found"}}, counts_.get_not_found);
    w.counter("failover_demo_requests_total", help, {{"method", "GET"}, {"result", "failed"}}, counts_.get_failed);
    w.counter("failover_demo_requests_total", help, {{"method", "PUT"}, {"result", "ok"}}, counts_.put_ok);
    w.counter("failover_demo_requests_total", help, {{"method", "PUT"}, {"result", "failed"}}, counts_.put_failed);
  }

 private:
  net::HttpResponse tagged(net::HttpResponse r) const {
    r.headers.emplace_back("X-Instance", o_.name);
    r.headers.emplace_back("X-Store-Node", store_.current());
    return r;
  }

  asio::awaitable<net::HttpResponse> get(std::string key) {
    auto got = co_await store_.get(std::move(key));
    if (!got) {
      ++(got.is(core::ErrorCode::kNotFound) ? counts_.get_not_found : counts_.get_failed);
      co_return tagged(net::HttpResponse::error(status_of(got.error()), got.error().message));
    }
    ++counts_.get_ok;
    net::HttpResponse r;
    r.content_type = "application/octet-stream";
    r.body = std::move(got->value);
    r.headers.emplace_back("ETag", "\"" + std::to_string(got->version) + "\"");
    co_return tagged(std::move(r));
  }

  asio::awaitable<net::HttpResponse> put(std::string key, const net::HttpRequest& req) {
    client::StoreCondition condition;
    condition.idempotency_key = std::string(req.header("Idempotency-Key"));
    auto put = co_await store_.put(std::move(key), req.body, condition);
    if (!put) {
      ++counts_.put_failed;
      co_return tagged(net::HttpResponse::error(status_of(put.error()), put.error().message));
    }
    ++counts_.put_ok;
    const boost::json::object body{{"version", put->version}, {"epoch", put->epoch}, {"seq", put->seq},
                                   {"instance", o_.name}, {"store", store_.current()}};
    net::HttpResponse r = net::HttpResponse::json(200, boost::json::serialize(body) + "\n");
    r.headers.emplace_back("ETag", "\"" + std::to_string(put->version) + "\"");
    co_return tagged(std::move(r));
  }

  const DemoServiceOptions& o_;
  client::StoreClient store_;
  Counts counts_;
};

}  // namespace

int run_demo_service(const DemoServiceOptions& o) {
  const auto listen = net::resolve_endpoint(o.listen);
  if (!listen) {
    std::cerr << "demo-service: --listen: '" << o.listen << "' is not host:port\n";
    return core::kExitConfigError;
  }
  asio::io_context io{1};
  role::Runner runner(io, "demo-service");
  std::unique_ptr<DemoService> service;
  try {
    service = std::make_unique<DemoService>(io, o);
  } catch (const std::invalid_argument& e) {
    std::cerr << "demo-service: --store: " << e.what() << '\n';
    return core::kExitConfigError;
  }
  const role::Endpoints endpoints{.status = [&] { return service->status(); },
                                  .metrics = [&](core::MetricsWriter& w) { service->metrics(w); }};
  auto handler = [&](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
    if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
    co_return co_await service->handle(std::move(req));
  };
  if (!runner.listen(o.listen, [&] { net::serve_http(io, *listen, handler); })) return role::kExitListenError;
  spdlog::info("failover demo-service {} {}: listening on {}, store {}", FAILOVER_VERSION, o.name, o.listen,
               o.store.empty() ? "" : o.store.front());
  return runner.run();
}

}  // namespace failover::demo
