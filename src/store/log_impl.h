#pragma once
// The state behind store::Log, shared by log.cc (append, sync, read),
// log_open.cc (recovery) and log_cut.cc (truncate, discard, reset).
// Internal to the store.
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "store/log.h"

namespace failover::store {

// One segment file: entries first_seq .. first_seq + offsets.size() - 1.
struct Segment {
  uint64_t first_seq = 0;
  Path path;
  std::vector<uint64_t> offsets;  // where each entry's frame starts
  uint64_t size = 0;              // bytes of whole frames (the file may hold no more)

  uint64_t end_seq() const { return first_seq + offsets.size(); }  // one past the last
  // Where the frame of `seq` ends (the next one starts).
  uint64_t end_of_frame(uint64_t seq) const {
    const uint64_t next = seq + 1 - first_seq;
    return next < offsets.size() ? offsets[next] : size;
  }
};

inline constexpr const char* kBaseFile = "base.json";
inline constexpr const char* kResetFile = "reset.json";

// "00000000000000000042.log"
std::string segment_name(uint64_t first_seq);
// The first seq a segment file name says, or nullopt for another file.
std::optional<uint64_t> parse_segment_name(std::string_view name);

struct LogBase {
  uint64_t seq = 0;
  uint64_t epoch = 0;
  EpochHistory epochs;  // of the entries up to seq
};
std::string base_to_json(const LogBase& base);
core::Result<LogBase> base_from_json(std::string_view text);

struct Log::Impl {
  Impl(FileSystem& f, Path d, LogOptions o) : fs(f), dir(std::move(d)), options(o) {}

  FileSystem& fs;
  const Path dir;
  const LogOptions options;

  // Guards what readers look at. The writer thread changes these only
  // with `mu` held exclusively, and reads them without it.
  mutable std::shared_mutex mu;
  std::vector<Segment> segments;  // ascending; empty when no file
  LogBase base;
  EpochHistory epochs;  // base.epochs + those of the entries
  uint64_t last_seq = 0;
  uint64_t last_epoch = 0;
  std::optional<uint64_t> damaged_from;

  // The writer's own, never touched by readers.
  std::unique_ptr<WritableFile> active;  // open on segments.back(), or null
  uint64_t reserved = 0;                 // the size active was reserved to
  bool active_unsynced = false;
  bool dir_unsynced = false;
  std::optional<core::Error> failed;  // set by the first failed write or sync

  // Records `error` as the log's failure and returns it.
  core::Error fail(core::Error error) {
    if (!failed) failed = error;
    return error;
  }
  // Log::append of checked entries.
  core::Result<void> append(std::span<const Entry* const> entries);
  // Keeps options.reserve_ahead of zeros after the active segment's end, within
  // segment_bytes. A full disk only stops it (the appends report ENOSPC).
  core::Result<void> reserve_ahead();
  // Closes the active segment, cut to its frames and durable.
  core::Result<void> close_active();
  core::Result<void> sync();
  // Reads entries [from, to) (to <= last_seq + 1), under `mu` held by the caller.
  core::Result<std::vector<Entry>> read_locked(uint64_t from, uint64_t to, uint64_t max_bytes) const;
};

}  // namespace failover::store
