#include "store/disk_guard.h"

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

std::string DiskGuard::reason() const {
  return "disk full: " + mib(free_) + " free under data_dir, min_free_disk " + mib(min_free_);
}

}  // namespace failover::store
