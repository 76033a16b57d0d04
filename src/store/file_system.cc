#include "store/file_system.h"

namespace failover::store {

bool is_disk_full(const core::Error& error) {
  return error.code == core::ErrorCode::kUnavailable && error.message.starts_with(kDiskFullPrefix);
}

core::Result<void> write_file_atomically(FileSystem& fs, const Path& path, std::string_view content) {
  Path tmp = path;
  tmp += ".tmp";
  // A .tmp left by an earlier crash may hold anything: start it afresh.
  if (fs.exists(tmp)) {
    if (auto r = fs.remove(tmp); !r) return r;
  }
  auto file = fs.open_for_append(tmp);
  if (!file) return file.error();
  if (auto r = (*file)->append(content); !r) return r;
  if (auto r = (*file)->sync(); !r) return r;
  if (auto r = (*file)->close(); !r) return r;
  if (auto r = fs.rename(tmp, path); !r) return r;
  return fs.sync_dir(path.has_parent_path() ? path.parent_path() : Path("."));
}

}  // namespace failover::store
