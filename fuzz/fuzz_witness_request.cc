// What reaches the witness's POST /record, and what its 409 and the store
// nodes' /status send back: any bytes parse without crashing, hanging or
// leaking; what parses encodes back to the same value; and a parsed
// proposal checked against a fixed record never breaks check_transition's
// contract (no crash, an error or success).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/record.h"
#include "arbiter/witness_recover.h"
#include "arbiter/witness_request.h"

using namespace failover::arbiter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto request = parse_cas_request(text);
      if (request) {
        auto again = parse_cas_request(cas_request_json(*request));
        if (!again || again->expected_version != request->expected_version || !(again->record == request->record))
          __builtin_trap();
        Record current;
        current.cluster_id = request->record.cluster_id;
        current.version = request->expected_version;
        current.epoch = 1;
        current.primary = "a";
        current.in_sync = {{"a", "disk-a"}};
        (void)check_transition(current, request->record);
      }
      break;
    }
    case 1: {
      auto record = record_from_json(text);
      if (record) {
        auto again = record_from_json(to_json(*record));
        if (!again || !(*again == *record)) __builtin_trap();
      }
      break;
    }
    case 2: {
      auto current = parse_conflict_reply(text);
      if (current && !(*parse_conflict_reply(conflict_reply_json(*current)) == *current)) __builtin_trap();
      break;
    }
    default: {
      auto report = parse_node_status(text);
      if (report) (void)recover_record({*report});
      break;
    }
  }
  return 0;
}
