#include "lb/retry.h"

#include <gtest/gtest.h>

namespace failover::lb {
namespace {

using namespace std::chrono_literals;

// A first attempt with every reason to retry, which each test then spoils.
Attempt attempt(std::string_view method, Outcome outcome) {
  return Attempt{.method = method,
                 .outcome = outcome,
                 .tries_done = 1,
                 .max_tries = 3,
                 .body_kept = true,
                 .elapsed = 100ms,
                 .timeout = 5000ms,
                 .other_server_left = true};
}

TEST(Retry, IdempotentMethodsAreThoseOfRfc9110) {
  for (auto m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) EXPECT_TRUE(idempotent(m)) << m;
  for (auto m : {"POST", "PATCH", "CONNECT", "get", "", "GETX"}) EXPECT_FALSE(idempotent(m)) << m;
}

TEST(Retry, GetIsRetriedAfterEveryFailure) {
  for (Outcome o : {Outcome::kConnectFailed, Outcome::kFailedAfterSend, Outcome::kTimeout,
                    Outcome::kBadResponse, Outcome::kRetryableStatus}) {
    EXPECT_TRUE(should_retry(attempt("GET", o))) << static_cast<int>(o);
  }
}

TEST(Retry, OkIsNeverRetried) {
  EXPECT_FALSE(should_retry(attempt("GET", Outcome::kOk)));
  EXPECT_FALSE(should_retry(attempt("POST", Outcome::kOk)));
}

TEST(Retry, NeverBeyondTries) {
  auto a = attempt("GET", Outcome::kConnectFailed);
  a.tries_done = 2;
  EXPECT_TRUE(should_retry(a));
  a.tries_done = 3;
  EXPECT_FALSE(should_retry(a));
  a.max_tries = 1;
  a.tries_done = 1;
  EXPECT_FALSE(should_retry(a));
}

TEST(Retry, NeverPastTimeout) {
  auto a = attempt("GET", Outcome::kTimeout);
  a.elapsed = 4999ms;
  EXPECT_TRUE(should_retry(a));
  a.elapsed = 5000ms;
  EXPECT_FALSE(should_retry(a));
  a.elapsed = 9000ms;
  EXPECT_FALSE(should_retry(a));
}

TEST(Retry, NeverWhenNoOtherServerIsLeft) {
  auto a = attempt("GET", Outcome::kConnectFailed);
  a.other_server_left = false;
  EXPECT_FALSE(should_retry(a));
}

TEST(Retry, PostIsRetriedOnlyWhenConnectFailed) {
  EXPECT_TRUE(should_retry(attempt("POST", Outcome::kConnectFailed)));
  for (Outcome o : {Outcome::kFailedAfterSend, Outcome::kTimeout, Outcome::kBadResponse,
                    Outcome::kRetryableStatus}) {
    EXPECT_FALSE(should_retry(attempt("POST", o))) << static_cast<int>(o);
    EXPECT_FALSE(should_retry(attempt("PATCH", o))) << static_cast<int>(o);
  }
}

TEST(Retry, NotWhenBodyWasNotKept) {
  for (auto m : {"PUT", "POST"}) {
    auto a = attempt(m, Outcome::kConnectFailed);
    a.body_kept = false;
    EXPECT_FALSE(should_retry(a)) << m;
  }
}

TEST(Retry, EveryFailureButOkCountsForPassiveEjection) {
  EXPECT_FALSE(counts_as_failure(Outcome::kOk));
  for (Outcome o : {Outcome::kConnectFailed, Outcome::kFailedAfterSend, Outcome::kTimeout,
                    Outcome::kBadResponse, Outcome::kRetryableStatus}) {
    EXPECT_TRUE(counts_as_failure(o));
  }
}

}  // namespace
}  // namespace failover::lb
