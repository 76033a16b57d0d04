#pragma once
// Whether the disk under data_dir still has room for writes. Below
// min_free the node takes no new write (507: certainly not applied, since
// it was refused before it was proposed) and a primary hands its role to an
// in-sync backup; a backup stops taking entries, so the primary drops it
// from in_sync. The min_free left is the room for the role change and the
// catch-up after it. Writes come back once free space is above min_free
// plus an eighth, so one write's worth does not flap the node. Between two
// measurements (every 100 ms) the writes taken are counted against the
// free space last measured, so a burst of 64 MiB values cannot run the disk
// into ENOSPC (which stops the node) before the next measurement sees it.
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

  // Whether a write of `bytes` may be taken: not full, and the free space
  // last measured, less the writes taken since, stays at min_free or
  // above. Counts the write when it is.
  bool admit(std::uint64_t bytes);

  bool full() const { return full_; }
  std::uint64_t free_bytes() const { return free_; }
  std::uint64_t min_free() const { return min_free_; }
  // For people: "disk full: 3.0 MiB free under data_dir, min_free_disk 16.0 MiB".
  std::string reason() const;

 private:
  std::uint64_t min_free_;
  std::uint64_t free_ = UINT64_MAX;
  std::uint64_t taken_ = 0;  // by the writes admitted since free_ was measured
  bool full_ = false;
};

}  // namespace failover::store
