#include "core/result.h"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

namespace failover::core {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Error::invalid(std::to_string(n) + " is odd");
  return n / 2;
}

Result<void> check(bool good) {
  if (!good) return Error::timeout("no answer within 100ms");
  return ok();
}

TEST(Result, HoldsTheValueOnSuccess) {
  const Result<int> r = half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 4);
  EXPECT_EQ(r.value(), 4);
  EXPECT_FALSE(r.is(ErrorCode::kInvalid));
}

TEST(Result, HoldsTheErrorOnFailure) {
  const Result<int> r = half(3);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.is(ErrorCode::kInvalid));
  EXPECT_EQ(r.error().message, "3 is odd");
  EXPECT_EQ(r.error().to_string(), "invalid: 3 is odd");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, TimeoutIsItsOwnCode) {
  const Result<void> r = check(false);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.is(ErrorCode::kTimeout));
  EXPECT_FALSE(r.is(ErrorCode::kUnavailable));
  EXPECT_STREQ(error_code_name(r.error().code), "timeout");
}

TEST(Result, VoidResultIsOkByDefault) {
  EXPECT_TRUE(Result<void>().ok());
  EXPECT_TRUE(check(true).ok());
  EXPECT_TRUE(ok().ok());
}

TEST(Result, AnErrorPassesUpUnchanged) {
  auto outer = []() -> Result<std::string> {
    const Result<int> inner = half(5);
    if (!inner) return inner.error();
    return std::to_string(*inner);
  };
  const auto r = outer();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::invalid("5 is odd"));
}

TEST(Result, DefaultIsAnErrorNotASuccess) {
  const Result<int> r;
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.is(ErrorCode::kInternal));
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Result, ArrowReachesMembers) {
  Result<std::vector<int>> r = std::vector<int>{1, 2, 3};
  EXPECT_EQ(r->size(), 3u);
  r->push_back(4);
  EXPECT_EQ(r->back(), 4);
}

TEST(Result, EveryCodeHasAName) {
  for (ErrorCode c : {ErrorCode::kTimeout, ErrorCode::kUnavailable, ErrorCode::kNotFound, ErrorCode::kConflict,
                      ErrorCode::kInvalid, ErrorCode::kUnauthorized, ErrorCode::kInternal, ErrorCode::kCancelled})
    EXPECT_STRNE(error_code_name(c), "") << static_cast<int>(c);
  EXPECT_STREQ(error_code_name(ErrorCode::kConflict), "conflict");
  EXPECT_STREQ(error_code_name(ErrorCode::kCancelled), "cancelled");
}

TEST(Result, CancelledIsNeitherATimeoutNorAFailureToConnect) {
  const Result<void> r = Error::cancelled("stopped");
  EXPECT_TRUE(r.is(ErrorCode::kCancelled));
  EXPECT_FALSE(r.is(ErrorCode::kTimeout));
  EXPECT_FALSE(r.is(ErrorCode::kUnavailable));
  EXPECT_EQ(r.error().to_string(), "cancelled: stopped");
}

}  // namespace
}  // namespace failover::core
