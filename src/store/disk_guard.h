#pragma once
// Whether the disk under data_dir still has room for writes. Below
// min_free the node takes no new write (507: certainly not applied, since
// it was refused before it was proposed) and a primary hands its role to an
// in-sync backup; a backup stops taking entries, so the primary drops it
// from in_sync. The min_free left is the room for the role change and the
// catch-up after it. Writes come back once free space is above min_free
// plus an eighth, so one write's worth does not flap the node.
//
// Pure: free bytes in (the caller asks the FileSystem), a verdict out.
#include <cstdint>
#include <string>

namespace failover::store {

class DiskGuard {
 public:
  explicit DiskGuard(std::uint64_t min_free) : min_free_(min_free) {}

  // The free bytes measured now; true when full() changed.
  bool observe(std::uint64_t free_bytes);

  bool full() const { return full_; }
  std::uint64_t free_bytes() const { return free_; }
  std::uint64_t min_free() const { return min_free_; }
  // For people: "disk full: 3.0 MiB free under data_dir, min_free_disk 16.0 MiB".
  std::string reason() const;

 private:
  std::uint64_t min_free_;
  std::uint64_t free_ = UINT64_MAX;
  bool full_ = false;
};

}  // namespace failover::store
