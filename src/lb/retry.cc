#include "lb/retry.h"

#include <array>

namespace failover::lb {

bool idempotent(std::string_view method) {
  // Methods are case-sensitive (RFC 9110 section 9.1): "get" is not GET, and
  // guessing would resend a request whose meaning we do not know.
  static constexpr std::array<std::string_view, 6> kIdempotent = {"GET",   "HEAD",   "OPTIONS",
                                                                  "TRACE", "PUT",    "DELETE"};
  for (std::string_view m : kIdempotent) {
    if (m == method) return true;
  }
  return false;
}

bool should_retry(const Attempt& a) {
  if (a.outcome == Outcome::kOk) return false;
  if (a.tries_done >= a.max_tries) return false;
  if (a.elapsed >= a.timeout) return false;
  if (!a.other_server_left) return false;
  if (!a.body_kept) return false;
  // A server that never accepted the connection cannot have acted on the
  // request, so even a POST is safe to send elsewhere; after that only
  // methods whose repetition is harmless are.
  return a.outcome == Outcome::kConnectFailed || idempotent(a.method);
}

}  // namespace failover::lb
