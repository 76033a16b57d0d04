#include "arbiter/witness_service.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "arbiter/record_file.h"
#include "arbiter/witness.h"
#include "arbiter/witness_client.h"
#include "arbiter/witness_config.h"
#include "arbiter/witness_recover.h"
#include "arbiter/witness_request.h"
#include "core/config_error.h"
#include "core/metrics_writer.h"
#include "net/endpoint.h"
#include "role/endpoints.h"
#include "role/runner.h"

namespace failover::arbiter {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// How long recover waits for each node's /status.
constexpr std::chrono::milliseconds kRecoverTimeout{3000};

std::string status_json(const Witness& witness, const WitnessConfig& config) {
  const Witness::Counters& c = witness.counters();
  json::object o;
  o["role"] = "witness";
  o["version"] = FAILOVER_VERSION;
  o["listen"] = config.listen;
  o["data_dir"] = config.data_dir;
  o["durable"] = witness.durable();
  o["record"] = json::parse(to_json(witness.record()));
  o["counters"] = json::object{{"reads", c.reads},         {"changes", c.changes},
                               {"conflicts", c.conflicts}, {"refused", c.refused},
                               {"bad_requests", c.bad_requests}};
  return json::serialize(o) + "\n";
}

void metrics(core::MetricsWriter& w, const Witness& witness) {
  const Record& r = witness.record();
  w.gauge("failover_witness_record_version", "Version of the record (+1 on every change).", {}, r.version);
  w.gauge("failover_witness_record_epoch", "Epoch of the record (+1 on every change of primary).", {}, r.epoch);
  w.gauge("failover_witness_in_sync", "Members of in_sync in the record.", {}, r.in_sync.size());
  const Witness::Counters& c = witness.counters();
  constexpr std::string_view kHelp = "Requests to /record by outcome.";
  w.counter("failover_witness_requests_total", kHelp, {{"outcome", "read"}}, c.reads);
  w.counter("failover_witness_requests_total", kHelp, {{"outcome", "changed"}}, c.changes);
  w.counter("failover_witness_requests_total", kHelp, {{"outcome", "conflict"}}, c.conflicts);
  w.counter("failover_witness_requests_total", kHelp, {{"outcome", "refused"}}, c.refused);
  w.counter("failover_witness_requests_total", kHelp, {{"outcome", "bad_request"}}, c.bad_requests);
}

WitnessConfig load_config(const std::string& path) {
  WitnessConfig c = load_witness_config(path);
  if (!net::resolve_endpoint(c.listen))
    throw core::ConfigError(c.source, 0, "cannot use address '" + c.listen + "' (want host:port)");
  return c;
}

// The record on disk, or a new cluster's, made durable first.
std::optional<Record> open_record(RecordFile& file) {
  core::Result<std::optional<Record>> loaded = file.load();
  if (!loaded) {
    spdlog::error("{}; restore the file or rebuild it with `failover witness recover`", loaded.error().message);
    return std::nullopt;
  }
  if (*loaded) return std::move(**loaded);
  Record fresh = new_cluster_record();
  if (core::Result<void> saved = file.save(fresh); !saved) {
    spdlog::error("cannot create the record: {}", saved.error().message);
    return std::nullopt;
  }
  spdlog::info("created {} for a new cluster {}", file.path(), fresh.cluster_id);
  return fresh;
}

}  // namespace

int run_witness(const std::string& config_path) {
  const WitnessConfig config = load_config(config_path);
  RecordFile file(config.data_dir);
  std::optional<Record> record = open_record(file);
  if (!record) return kExitWitnessFailed;

  asio::io_context io{1};
  role::Runner runner(io, "witness");
  Witness witness(file, std::move(*record), [](const core::Error& e) {
    // The file may hold the old record or the new one: answering anything
    // more could contradict what a restart reads back. Exit, and let the
    // restart read the file.
    spdlog::critical("cannot make the record durable ({}): stopping", e.message);
    spdlog::default_logger()->flush();
    std::_Exit(kExitWitnessFailed);
  });
  const role::Endpoints endpoints{.status = [&] { return status_json(witness, config); },
                                  .metrics = [&](core::MetricsWriter& w) { metrics(w, witness); }};
  auto handler = [&](net::HttpRequest req) -> asio::awaitable<net::HttpResponse> {
    if (auto r = witness.handle(req)) co_return std::move(*r);
    if (auto r = role::serve_endpoints(req, endpoints)) co_return std::move(*r);
    co_return net::HttpResponse::error(404, "no such path: GET /record, POST /record, /status, /metrics, /");
  };
  net::HttpServerLimits limits;
  limits.max_body_size = kMaxRequestBytes;
  if (!runner.listen(config.listen,
                     [&] { net::serve_http(io, *net::resolve_endpoint(config.listen), handler, limits); }))
    return role::kExitListenError;
  spdlog::info("failover witness {} listening on {}, cluster {}, version {}, epoch {}, primary '{}'",
               FAILOVER_VERSION, config.listen, witness.record().cluster_id, witness.record().version,
               witness.record().epoch, witness.record().primary);
  return runner.run();
}

int init_witness(const std::string& config_path, bool force) {
  const WitnessConfig config = load_witness_config(config_path);
  RecordFile file(config.data_dir);
  core::Result<std::optional<Record>> existing = file.load();
  if (!force && (!existing || *existing)) {
    std::cerr << file.path() << " exists" << (existing ? "" : " (unreadable)")
              << ": the nodes know its cluster; --force replaces it with a new cluster they will refuse\n";
    return kExitWitnessFailed;
  }
  const Record fresh = new_cluster_record();
  if (core::Result<void> saved = file.save(fresh); !saved) {
    std::cerr << "cannot write the record: " << saved.error().message << '\n';
    return kExitWitnessFailed;
  }
  std::cout << "created " << file.path() << " for a new cluster " << fresh.cluster_id << '\n';
  return 0;
}

int recover_witness(const std::string& config_path, const std::vector<std::string>& node_urls) {
  const WitnessConfig config = load_witness_config(config_path);
  asio::io_context io{1};
  std::vector<NodeReport> reports;
  for (const std::string& url : node_urls) {
    core::Result<std::string> body;
    asio::co_spawn(io, http_get_body(io.get_executor(), url, "/status", kRecoverTimeout),
                   [&](std::exception_ptr e, core::Result<std::string> r) {
                     body = e ? core::Result<std::string>(core::Error::internal("exception")) : std::move(r);
                   });
    io.restart();
    io.run();
    NodeReport report;
    if (body) {
      core::Result<NodeReport> parsed = parse_node_status(*body);
      if (parsed) report = std::move(*parsed);
      else report.error = parsed.error().message;
    } else {
      report.error = body.error().to_string();
    }
    report.url = url;
    reports.push_back(std::move(report));
  }
  core::Result<Recovery> recovery = recover_record(reports);
  if (recovery)
    for (const std::string& w : recovery->warnings) std::cerr << "warning: " << w << '\n';
  if (!recovery) {
    for (const NodeReport& r : reports)
      if (!r.error.empty()) std::cerr << r.url << ": " << r.error << '\n';
    std::cerr << "cannot recover: " << recovery.error().message << '\n';
    return kExitWitnessFailed;
  }
  RecordFile file(config.data_dir);
  if (core::Result<void> saved = file.save(recovery->record); !saved) {
    std::cerr << "cannot write the record: " << saved.error().message << '\n';
    return kExitWitnessFailed;
  }
  std::cout << "recovered " << file.path() << ": " << to_json(recovery->record) << '\n';
  return 0;
}

}  // namespace failover::arbiter
