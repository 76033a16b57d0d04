#pragma once
// Bytes read from a socket and not yet used: one contiguous area, so a
// parser sees a plain string_view, reused across messages so a connection
// allocates it once.
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace failover::net {

class ReadBuffer {
 public:
  std::string_view data() const { return {buf_.data() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void clear() { begin_ = end_ = 0; }

  // At least `min` bytes of room after the data. May move the data:
  // views from data() are invalid afterwards.
  std::span<char> prepare(std::size_t min = 8192) {
    if (buf_.size() - end_ < min) {
      if (begin_ > 0) {  // slide the unread bytes to the front first
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - end_ < min) buf_.resize(end_ + min);
    }
    return {buf_.data() + end_, buf_.size() - end_};
  }
  void commit(std::size_t n) { end_ += n; }

 private:
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace failover::net
