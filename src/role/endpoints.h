#pragma once
// What every role serves on its admin address (docs/architecture.md, "The
// role skeleton"): GET /status (JSON, with "role"), GET /metrics
// (Prometheus text, written through core::MetricsWriter) and GET / (the one
// dashboard page, web/index.html, which reads /status and draws the panels
// of that role) with its scripts and styles under /web/.
#include <functional>
#include <optional>
#include <string>

#include "core/metrics_writer.h"
#include "net/http_server.h"

namespace failover::role {

// A role's two views of itself. Both run on the thread that serves the
// admin address, which is the thread that owns the state they read.
struct Endpoints {
  std::function<std::string()> status;                  // JSON object with "role"
  std::function<void(core::MetricsWriter&)> metrics;    // every family of the role
};

// The response for GET or HEAD of /status, /metrics, / or /web/FILE;
// nullopt for any other request, which the role routes itself.
std::optional<net::HttpResponse> serve_endpoints(const net::HttpRequest& request, const Endpoints& endpoints);

}  // namespace failover::role
