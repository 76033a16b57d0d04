#pragma once
// The disk seam of the store, as LevelDB's Env: the log, the node's meta
// file and the checkpoint code reach the disk only through a FileSystem, so
// a test swaps in one that forgets what was not fsynced, fails an fsync,
// fills up or flips a byte (tests/support/faulty_file_system.h).
//
// Durability contract (what the posix one gives and the faulty one models):
// bytes appended to a file survive a crash only after that file's sync();
// a created, renamed or removed name survives only after sync_dir() of its
// directory. truncate() and create_dirs() are durable when they return.
//
// Errors: kNotFound when the path is not there; a full disk (ENOSPC,
// EDQUOT) is kUnavailable with a message starting "disk full", recognised by
// is_disk_full(); anything else (EIO, EACCES, ...) is kInternal. A failed
// sync() is never retried: after a failed fsync the kernel may have dropped
// the dirty pages and a second fsync would report success over lost data.
// The caller treats it as fatal and recovers from the log after a restart.
//
// Threads: a FileSystem may be used from several threads at once; one
// WritableFile is used by one thread at a time.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace failover::store {

using Path = std::filesystem::path;

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes `bytes` right after what was appended before (at first: at the
  // end the file had when opened), over any zeros reserve() put there. On an
  // error some prefix of the bytes may have been written.
  virtual core::Result<void> append(std::string_view bytes) = 0;
  // Makes the file at least `size` bytes long, filling with zeros, without
  // moving where the next append() writes. Real zeros, not a hole or
  // fallocate's unwritten extents: once their size is durable, appends
  // over them change no metadata, so their sync() is a pure data flush with
  // no journal commit (about a third faster on ext4 here). A reader of the
  // file sees the zeros; the log's recovery takes them for its end.
  virtual core::Result<void> reserve(uint64_t size) = 0;
  // Makes everything appended or reserved so far durable (fdatasync).
  virtual core::Result<void> sync() = 0;
  // Releases the file; the destructor closes too, ignoring errors.
  virtual core::Result<void> close() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Opens `path` for appending at its end, creating it empty when missing
  // (the new name is durable after sync_dir of its directory).
  virtual core::Result<std::unique_ptr<WritableFile>> open_for_append(const Path& path) = 0;
  // The whole file.
  virtual core::Result<std::string> read_file(const Path& path) = 0;
  // Up to `length` bytes from `offset`; fewer at the end of the file.
  virtual core::Result<std::string> read_range(const Path& path, uint64_t offset, uint64_t length) = 0;
  // The names (not paths) of the entries of `dir`, sorted.
  virtual core::Result<std::vector<std::string>> list_dir(const Path& dir) = 0;
  // mkdir -p; each directory it creates is made durable in its parent.
  virtual core::Result<void> create_dirs(const Path& dir) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual core::Result<void> rename(const Path& from, const Path& to) = 0;
  // Removes a file (kNotFound when it is not there).
  virtual core::Result<void> remove(const Path& path) = 0;
  // Cuts the file to `size` bytes and makes the cut durable.
  virtual core::Result<void> truncate(const Path& path, uint64_t size) = 0;
  // Makes the names in `dir` durable (fsync of the directory).
  virtual core::Result<void> sync_dir(const Path& dir) = 0;
  virtual core::Result<uint64_t> file_size(const Path& path) = 0;
  virtual bool exists(const Path& path) = 0;
  // The bytes a writer may still put on the file system that holds `dir`
  // (statvfs: f_bavail blocks).
  virtual core::Result<uint64_t> free_bytes(const Path& dir) = 0;
};

// The real disk. One instance for the process; thread-safe.
FileSystem& posix_file_system();

// The message prefix of a full-disk error, and its test.
inline constexpr std::string_view kDiskFullPrefix = "disk full";
bool is_disk_full(const core::Error& error);

// Replaces `path` with `content` so that a crash leaves either the old file
// or the new one, never a mix: write `path`.tmp, sync it, rename it over
// `path`, sync the directory. A leftover .tmp after a crash is garbage.
core::Result<void> write_file_atomically(FileSystem& fs, const Path& path, std::string_view content);

}  // namespace failover::store
