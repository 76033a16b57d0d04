#pragma once
// Whether a failed attempt is sent again to another server. A pure function
// of what happened, so every rule is unit-tested.
#include <chrono>
#include <string_view>

namespace failover::lb {

enum class Outcome {
  kOk,                 // a response the client gets as is
  kConnectFailed,      // refused, unreachable, or connect timed out: the server never saw it
  kFailedAfterSend,    // reset or closed before the response headers
  kTimeout,            // no response headers within try_timeout (request was sent)
  kBadResponse,        // garbage or truncated response headers
  kRetryableStatus,    // 502, 503 or 504 from the server
};

struct Attempt {
  std::string_view method;
  Outcome outcome;
  int tries_done;                       // including this one
  int max_tries;
  bool body_kept;                       // the request body is still in memory (<= 64 KiB)
  std::chrono::milliseconds elapsed;    // since the request arrived
  std::chrono::milliseconds timeout;    // retry.timeout
  bool other_server_left;               // a server this request has not tried is available
};

// GET, HEAD, OPTIONS, TRACE, PUT, DELETE (RFC 9110 section 9.2.2).
bool idempotent(std::string_view method);

// Retry when the outcome is a failure, tries and time remain, another server
// is left, the body can be sent again, and either the method is idempotent
// or the server never received the request (connect failed).
bool should_retry(const Attempt& attempt);

// Whether the outcome counts as the server's failure for passive ejection.
// A 502/503/504 does (the server said it cannot serve); kOk does not.
inline bool counts_as_failure(Outcome o) { return o != Outcome::kOk; }

}  // namespace failover::lb
