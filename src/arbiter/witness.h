#pragma once
// The witness's request handling: GET /record and POST /record (a
// compare-and-set) over the one record, as a plain function of the request
// and the record, with the disk behind RecordStore. No sockets, no clock:
// witness_service.cc owns the server around it.
//
// Threads: one, the thread that serves the witness's HTTP API.
#include <cstdint>
#include <functional>
#include <optional>

#include "arbiter/record.h"
#include "arbiter/record_file.h"
#include "core/result.h"
#include "net/http_server.h"

namespace failover::arbiter {

class Witness {
 public:
  // Called once a save failed: the record on disk may be the old or the new
  // one, so the process must stop (the service exits; it recovers from the
  // file on restart). The request that hit it is answered 503, never 200.
  using OnLostDurability = std::function<void(const core::Error&)>;

  // `record` is what `store` holds now (loaded or just created).
  Witness(RecordStore& store, Record record, OnLostDurability on_lost_durability);

  // GET /record, POST /record; nullopt for any other path (the role's
  // /status, /metrics and dashboard, or a 404).
  //   GET  -> 200 the record
  //   POST -> 200 the new record, durable | 409 {"current":...} when
  //           expected_version is not the record's version | 400 {"error"}
  //           for a malformed body or a change check_transition() refuses
  std::optional<net::HttpResponse> handle(const net::HttpRequest& request);

  const Record& record() const { return record_; }
  bool durable() const { return durable_; }

  struct Counters {
    std::uint64_t reads = 0, changes = 0, conflicts = 0, refused = 0, bad_requests = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  net::HttpResponse compare_and_set(const net::HttpRequest& request);

  RecordStore& store_;
  Record record_;
  OnLostDurability on_lost_durability_;
  bool durable_ = true;  // false after a failed save: nothing is answered 200 again
  Counters counters_;
};

}  // namespace failover::arbiter
