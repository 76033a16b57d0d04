#include "store/disk_guard.h"

#include <algorithm>
#include <cstdio>

namespace failover::store {

namespace {
std::string mib(std::uint64_t bytes) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return out;
}
}  // namespace

bool DiskGuard::observe(std::uint64_t free_bytes) {
  free_ = free_bytes;
  taken_ = 0;
  const bool was = full_;
  if (min_free_ == 0) {
    full_ = false;
  } else if (full_) {
    full_ = free_bytes < min_free_ + min_free_ / 8;
  } else {
    full_ = free_bytes < min_free_;
  }
  return full_ != was;
}

bool DiskGuard::admit(std::uint64_t bytes) {
  if (full_) return false;
  if (min_free_ == 0 || free_ == UINT64_MAX) return true;  // no bound, or nothing measured yet
  if (free_ < min_free_ || free_ - min_free_ - std::min(taken_, free_ - min_free_) < bytes) return false;
  taken_ += bytes;
  return true;
}

std::string DiskGuard::reason() const {
  std::string why = "disk full: " + mib(free_) + " free under data_dir";
  if (!full_ && taken_ > 0) why += " less " + mib(taken_) + " of writes taken since it was measured";
  return why + ", min_free_disk " + mib(min_free_);
}

}  // namespace failover::store
