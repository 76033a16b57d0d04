#include "health/probe_result.h"

namespace failover::health {

const char* cause_name(Cause c) {
  switch (c) {
    case Cause::kOk: return "ok";
    case Cause::kRefused: return "refused";
    case Cause::kTimeout: return "timeout";
    case Cause::kReset: return "reset";
    case Cause::kBadStatus: return "bad_status";
    case Cause::kBadResponse: return "bad_response";
    case Cause::kError: return "error";
  }
  return "error";
}

}  // namespace failover::health
