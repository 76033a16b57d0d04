#pragma once
// The bodies of the witness's HTTP API, as pure functions (bytes in, a value
// or an error out) so that a fuzzer can feed them anything.
//
//   POST /record  {"expected_version":N,"record":{...}}
//   409 reply     {"current":{...}}
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/record.h"
#include "core/result.h"

namespace failover::arbiter {

// A record is a few hundred bytes; the bound keeps a hostile body from
// costing more than a parse of this size.
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

struct CasRequest {
  std::uint64_t expected_version = 0;
  Record record;
};

// kInvalid, saying what is wrong, for anything but such an object within
// kMaxRequestBytes. Keys other than these two are refused too, so that a
// misspelt "expected_version" is an error rather than a 0.
core::Result<CasRequest> parse_cas_request(std::string_view body);
std::string cas_request_json(const CasRequest& request);

// The record of a 409 reply ({"current":{...}}); kInvalid otherwise.
core::Result<Record> parse_conflict_reply(std::string_view body);
std::string conflict_reply_json(const Record& current);

}  // namespace failover::arbiter
