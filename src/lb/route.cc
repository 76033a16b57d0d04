#include "lb/model.h"

namespace failover::lb {

// Exact host beats "*"; among those, the longest path prefix wins. No
// routes at all: the first upstream serves everything.
const UpstreamView* Snapshot::route(std::string_view host, std::string_view target) const {
  if (upstreams.empty()) return nullptr;
  if (routes.empty()) return &upstreams.front();
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']') == std::string_view::npos)
    host = host.substr(0, colon);
  const RouteConfig* best = nullptr;
  int best_score = -1;
  for (const RouteConfig& r : routes) {
    const bool host_ok = r.host == "*" || r.host == host;
    if (!host_ok || !target.starts_with(r.path)) continue;
    const int score = (r.host == "*" ? 0 : 1 << 20) + static_cast<int>(r.path.size());
    if (score > best_score) { best = &r; best_score = score; }
  }
  if (!best) return nullptr;
  for (const UpstreamView& u : upstreams)
    if (u.name == best->upstream) return &u;
  return nullptr;
}

}  // namespace failover::lb
