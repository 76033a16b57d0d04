#include "role/endpoints.h"

#include <algorithm>

#include "role/web_assets.h"

namespace failover::role {

std::optional<net::HttpResponse> serve_endpoints(const net::HttpRequest& req, const Endpoints& e) {
  if (req.method != "GET" && req.method != "HEAD") return std::nullopt;
  if (req.path == "/status") return net::HttpResponse::json(200, e.status());
  if (req.path == "/metrics") {
    core::MetricsWriter w;
    e.metrics(w);
    return net::HttpResponse::metrics(w.text());
  }
  const WebAsset* asset = nullptr;
  if (req.path == "/") asset = find_web_asset("/web/index.html");
  else if (req.path.starts_with("/web/")) asset = find_web_asset(req.path);
  else return std::nullopt;
  if (!asset) return net::HttpResponse::error(404, "no such file: " + req.path);
  net::HttpResponse r{200, asset->content_type, std::string(asset->body), {}};
  // The page belongs to the binary: after an upgrade the browser must not
  // keep the old script against the new /status.
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

const WebAsset* find_web_asset(std::string_view path) {
  const auto assets = web_assets();
  const auto it = std::lower_bound(assets.begin(), assets.end(), path,
                                   [](const WebAsset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

}  // namespace failover::role
