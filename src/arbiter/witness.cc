#include "arbiter/witness.h"

#include "arbiter/witness_request.h"

namespace failover::arbiter {

Witness::Witness(RecordStore& store, Record record, OnLostDurability on_lost_durability)
    : store_(store), record_(std::move(record)), on_lost_durability_(std::move(on_lost_durability)) {}

std::optional<net::HttpResponse> Witness::handle(const net::HttpRequest& request) {
  if (request.path != "/record") return std::nullopt;
  if (!durable_) return net::HttpResponse::error(503, "the witness lost its disk and is stopping");
  if (request.method == "GET" || request.method == "HEAD") {
    ++counters_.reads;
    return net::HttpResponse::json(200, to_json(record_));
  }
  if (request.method == "POST") return compare_and_set(request);
  net::HttpResponse r = net::HttpResponse::error(405, "GET or POST /record");
  r.headers.emplace_back("Allow", "GET, HEAD, POST");
  return r;
}

net::HttpResponse Witness::compare_and_set(const net::HttpRequest& request) {
  core::Result<CasRequest> cas = parse_cas_request(request.body);
  if (!cas) {
    ++counters_.bad_requests;
    return net::HttpResponse::error(400, cas.error().message);
  }
  // The version first: a proposal built on an old record is a conflict
  // even when it would also break a rule, and the caller needs `current`.
  if (cas->expected_version != record_.version) {
    ++counters_.conflicts;
    return net::HttpResponse::json(409, conflict_reply_json(record_));
  }
  if (core::Result<void> allowed = check_transition(record_, cas->record); !allowed) {
    ++counters_.refused;
    return net::HttpResponse::error(400, allowed.error().message);
  }
  if (core::Result<void> saved = store_.save(cas->record); !saved) {
    durable_ = false;
    if (on_lost_durability_) on_lost_durability_(saved.error());
    return net::HttpResponse::error(503, "cannot make the record durable: " + saved.error().message);
  }
  record_ = std::move(cas->record);
  ++counters_.changes;
  return net::HttpResponse::json(200, to_json(record_));
}

}  // namespace failover::arbiter
