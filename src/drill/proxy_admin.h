#pragma once
// Named fault proxies and the HTTP API that sets their faults at run time,
// for `failover proxy` (one of them) and `failover up` (one in front of
// each component it was asked to cover):
//
//   GET /faults              {"NAME": {"listen", "upstream", "fault", counters}, ...}
//   PUT /faults/NAME         body: a fault (fault.h), "delay 100ms"; 200 with
//                            that proxy's entry, 400 for a bad fault, 404 for
//                            an unknown name
//
// plus status() and metrics() for the role skeleton. On the io thread of
// the proxies.
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/metrics_writer.h"
#include "drill/fault_proxy.h"
#include "net/http_server.h"

namespace failover::drill {

class ProxyAdmin {
 public:
  void add(std::string name, FaultProxy& proxy);
  FaultProxy* find(const std::string& name) const;

  // The answer to a /faults request; nullopt for any other path.
  std::optional<net::HttpResponse> handle(const net::HttpRequest& request);
  // The JSON of GET /faults.
  std::string faults_json() const;
  void metrics(core::MetricsWriter& w) const;

 private:
  std::string entry_json(const std::string& name, const FaultProxy& proxy) const;
  std::map<std::string, FaultProxy*> proxies_;
};

}  // namespace failover::drill
