#pragma once
// The one result type of every operation that can fail: a value, or an
// Error saying what kind of failure it was and why, as leveldb's Status plus
// a value (std::expected is C++23). Callers branch on ok() or on the code,
// never on the message, which is for people (logs, CLI, 4xx bodies).
//
//   core::Result<Reply> r = parse(body);
//   if (!r) return r.error();            // an Error converts to any Result
//   use(*r);
//
//   core::Result<void> done = write();   // success or an Error, no value
//   if (done.is(core::ErrorCode::kTimeout)) ...
//
// Cheap: a Result<T> is a std::variant<T, Error>; a Result<void> an
// optional Error. Not thread-safe, like any value.
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace failover::core {

// Kept small: a new code is worth adding only when some caller acts on it
// differently from every existing one.
enum class ErrorCode {
  kTimeout = 1,   // no answer in time; the peer may or may not have acted
  kUnavailable,   // connection refused, reset or unreachable, a 5xx, no peer at all
  kNotFound,      // the thing asked for does not exist (an instance, a key, a lease)
  kConflict,      // a compare-and-set or precondition failed: someone else moved first
  kInvalid,       // bad input, or a reply we cannot read: retrying the same will not help
  kUnauthorized,  // refused for lack of (or a wrong) token
  kInternal,      // a broken invariant or an exception caught at a boundary
  kCancelled,     // the caller stopped it (shutdown, a cancelled request); the peer may have acted
};

// "timeout", "unavailable", ...: stable names for logs, JSON and metrics.
const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // for people: which peer and why, "127.0.0.1:2379: connect: refused"

  static Error timeout(std::string m) { return {ErrorCode::kTimeout, std::move(m)}; }
  static Error unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
  static Error invalid(std::string m) { return {ErrorCode::kInvalid, std::move(m)}; }
  static Error unauthorized(std::string m) { return {ErrorCode::kUnauthorized, std::move(m)}; }
  static Error internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
  static Error cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m)}; }

  // "timeout: 127.0.0.1:2379 did not answer within 3000ms"
  std::string to_string() const;
  bool operator==(const Error&) const = default;
};

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  // An Error (kInternal, "no result"), never a made-up success: Asio's
  // co_spawn and containers need a default value.
  Result() : v_(std::in_place_index<1>, Error{ErrorCode::kInternal, "no result"}) {}
  // Implicit both ways on purpose: `return value;` and `return error;` read
  // as the plain statements they are.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  bool is(ErrorCode code) const { return !ok() && error().code == code; }

  // value() and error() are for the side that is there (checked by
  // std::get: the wrong side throws std::bad_variant_access, a bug).
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;                                   // success
  Result(Error error) : error_(std::move(error)) {}    // NOLINT: implicit on purpose

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  bool is(ErrorCode code) const { return !ok() && error_->code == code; }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

// `return core::ok();` in a function returning Result<void>.
inline Result<void> ok() { return {}; }

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kInvalid: return "invalid";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kCancelled: return "cancelled";
  }
  return "internal";
}

inline std::string Error::to_string() const {
  std::string s = error_code_name(code);
  if (!message.empty()) {
    s += ": ";
    s += message;
  }
  return s;
}

}  // namespace failover::core
