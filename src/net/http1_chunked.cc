#include "net/http1.h"
#include "net/http1_chars.h"

#include <algorithm>
#include <cstring>

namespace failover::net::http1 {

// Chunked bodies. One byte at a time through the size and trailer lines,
// which are short; chunk data is skipped (or copied) in one step.

std::size_t ChunkedScanner::fail(Error& error, std::size_t at, Error why) {
  state_ = State::kError;
  failure_ = error = why;
  return at;
}

namespace {
unsigned hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const unsigned lower = c | 0x20u;
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return 16;
}
}  // namespace

std::size_t ChunkedScanner::run(std::string_view in, Error& error, std::string* sink) {
  error = failure_;
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    const bool ctl = (c < 0x20 && c != '\t') || c == 0x7f;
    switch (state_) {
      case State::kSize: {
        const unsigned digit = hex_value(c);
        if (digit < 16) {
          if (remaining_ >> 60) return fail(error, i);  // the next digit would overflow
          remaining_ = remaining_ * 16 + digit;
          has_digit_ = true;
        } else if (!has_digit_) {
          return fail(error, i);
        } else if (c == ';') {
          state_ = State::kExtension;
        } else if (c == ' ' || c == '\t') {
          state_ = State::kSizeSpace;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
        } else {
          return fail(error, i);
        }
        break;
      }
      case State::kSizeSpace:  // BWS is allowed only before an extension
        if (c == ';')
          state_ = State::kExtension;
        else if (c != ' ' && c != '\t')
          return fail(error, i);
        break;
      case State::kExtension:
        // Extensions are relayed, not understood; what matters is that no
        // CR or LF hides in them for another parser to end the line at.
        if (c == '\r')
          state_ = State::kSizeLf;
        else if (ctl)
          return fail(error, i);
        break;
      case State::kSizeLf:
        if (c != '\n') return fail(error, i);
        line_ = 0;
        if (remaining_ == 0) {
          state_ = State::kTrailerStart;
          break;
        }
        // The size line is used up; its chunk is not.
        if (remaining_ > budget_) return fail(error, i + 1, Error::kBodyTooLarge);
        budget_ -= remaining_;
        state_ = State::kData;
        break;
      case State::kData: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
        if (sink != nullptr) sink->append(in.data() + i, n);
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) state_ = State::kDataCr;
        continue;
      }
      case State::kDataCr:
        if (c != '\r') return fail(error, i);
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return fail(error, i);
        state_ = State::kSize;
        has_digit_ = false;
        break;
      case State::kTrailerStart:  // a name must start the line: no obs-fold
        if (c == '\r')
          state_ = State::kEndLf;
        else if (kTokenChars[c])
          state_ = State::kTrailerName;
        else
          return fail(error, i);
        break;
      case State::kTrailerName:
        if (c == ':')
          state_ = State::kTrailerValue;
        else if (!kTokenChars[c])
          return fail(error, i);
        break;
      case State::kTrailerValue:
        if (c == '\r')
          state_ = State::kTrailerLf;
        else if (ctl)
          return fail(error, i);
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail(error, i);
        state_ = State::kTrailerStart;
        break;
      case State::kEndLf:
        if (c != '\n') return fail(error, i);
        state_ = State::kDone;
        return i + 1;
      case State::kDone:
      case State::kError: return 0;
    }
    ++i;
    if (state_ == State::kSize || state_ == State::kSizeSpace || state_ == State::kExtension) {
      if (++line_ > kMaxChunkLine) return fail(error, i - 1);
    } else if (state_ >= State::kTrailerStart && ++trailer_ > kMaxTrailerSize) {
      return fail(error, i - 1);
    }
  }
  return i;
}

std::size_t ChunkedScanner::scan(std::string_view in, Error& error) {
  return run(in, error, nullptr);
}

Decode ChunkedDecoder::decode(std::string_view in, std::string& body, std::size_t& used,
                              Error& error) {
  used = scanner_.run(in, error, &body);
  if (error == Error::kBodyTooLarge) return Decode::kTooLarge;
  if (error != Error::kNone) return Decode::kError;
  return scanner_.done() ? Decode::kDone : Decode::kNeedMore;
}

}  // namespace failover::net::http1
