// Log::open: finishes a reset or discard a crash interrupted, then reads
// every segment, cutting a torn tail and reporting damage (log.h).
#include <algorithm>
#include <mutex>

#include "store/log_impl.h"

namespace failover::store {
namespace {

// Whether a whole valid frame for a seq >= `next` starts anywhere after
// `bad` in `bytes`. CRC-32C makes a frame appearing by chance in a torn tail
// vanishingly unlikely, so this tells damage (good data after the bad frame)
// from a tail that was being written.
bool valid_frame_after(std::string_view bytes, size_t bad, uint64_t next) {
  for (size_t at = bad + 1; at + kMinFrameBytes <= bytes.size(); ++at) {
    uint64_t seq = 0;
    for (int i = 0; i < 8; ++i) seq |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + 16 + i])) << (8 * i);
    if (seq < next) continue;  // cheap filter before the crc
    if (decode_entry(bytes.substr(at)).status == Decoded::kOk) return true;
  }
  return false;
}

// A reserved tail (FileSystem::reserve) that no append reached.
bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

core::Result<void> remove_segments(FileSystem& fs, const std::vector<Segment>& segments, size_t from) {
  // Newest first, so a crash part-way leaves a log without a gap.
  for (size_t i = segments.size(); i > from; --i) {
    if (auto r = fs.remove(segments[i - 1].path); !r && !r.is(core::ErrorCode::kNotFound)) return r;
  }
  return core::ok();
}

// Redoes an interrupted reset (reset.json is there only once complete).
core::Result<void> finish_reset(FileSystem& fs, const Path& dir, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (!parse_segment_name(name)) continue;
    if (auto r = fs.remove(dir / name); !r) return r;
  }
  if (auto r = fs.sync_dir(dir); !r) return r;
  if (auto r = fs.rename(dir / kResetFile, dir / kBaseFile); !r) return r;
  return fs.sync_dir(dir);
}

}  // namespace

core::Result<Log> Log::open(FileSystem& fs, const Path& dir, LogOptions options) {
  auto impl = std::make_unique<Impl>(fs, dir, options);
  Impl& s = *impl;
  if (auto r = fs.create_dirs(dir); !r) return r.error();
  auto names = fs.list_dir(dir);
  if (!names) return names.error();

  if (fs.exists(dir / kResetFile)) {
    auto text = fs.read_file(dir / kResetFile);
    if (!text) return text.error();
    if (auto base = base_from_json(*text); !base) {
      return core::Error::internal((dir / kResetFile).string() + ": " + base.error().message);
    }
    if (auto r = finish_reset(fs, dir, *names); !r) return r.error();
    names = fs.list_dir(dir);
    if (!names) return names.error();
  }
  if (fs.exists(dir / kBaseFile)) {
    auto text = fs.read_file(dir / kBaseFile);
    if (!text) return text.error();
    auto base = base_from_json(*text);
    if (!base) return core::Error::internal((dir / kBaseFile).string() + ": " + base.error().message);
    s.base = std::move(*base);
  }

  std::vector<Segment> found;
  for (const std::string& name : *names) {
    if (auto seq = parse_segment_name(name)) found.push_back(Segment{*seq, dir / name, {}, 0});
  }
  // Segments a discard_before had moved into the base before a crash.
  bool removed = false;
  while (found.size() >= 2 && found[1].first_seq <= s.base.seq + 1) {
    if (auto r = fs.remove(found.front().path); !r) return r.error();
    found.erase(found.begin());
    removed = true;
  }

  s.epochs = s.base.epochs;
  s.last_epoch = s.base.epoch;
  uint64_t next = s.base.seq + 1;
  for (size_t i = 0; i < found.size(); ++i) {
    Segment& seg = found[i];
    const bool last = i + 1 == found.size();
    if (seg.first_seq != next) {  // a gap, or an overlap with the base
      s.damaged_from = next;
      if (auto r = remove_segments(fs, found, i); !r) return r.error();
      found.resize(i);
      removed = true;
      break;
    }
    auto bytes = fs.read_file(seg.path);
    if (!bytes) return bytes.error();
    const std::string_view data = *bytes;
    size_t at = 0;
    while (at < data.size()) {
      Decoded d = decode_entry(data.substr(at));
      const bool fits = d.status == Decoded::kOk && d.entry.seq == next && d.entry.epoch >= s.last_epoch;
      if (fits) {
        seg.offsets.push_back(at);
        s.epochs.add(d.entry.epoch, d.entry.seq);
        s.last_epoch = d.entry.epoch;
        ++next;
        at += d.size;
        continue;
      }
      // A frame that reads but does not follow, or a bad one with good data
      // after it, or anything bad before the last segment: damage. Else the
      // reserved zeros, or a tail the crash tore: never acknowledged, so
      // quietly dropped.
      const bool torn =
          last && d.status != Decoded::kOk && (all_zero(data.substr(at)) || !valid_frame_after(data, at, next));
      if (!torn) s.damaged_from = next;
      break;
    }
    seg.size = at;
    if (at < data.size()) {
      if (auto r = fs.truncate(seg.path, at); !r) return r.error();
      if (auto r = remove_segments(fs, found, i + 1); !r) return r.error();
      removed = removed || !last;
      found.resize(i + 1);
      break;
    }
  }
  if (removed) {
    if (auto r = fs.sync_dir(dir); !r) return r.error();
  }
  s.segments = std::move(found);
  s.last_seq = next - 1;
  // A stale .tmp of write_file_atomically is garbage (its rename never happened).
  for (const std::string& name : *names) {
    if (name.ends_with(".tmp") && fs.exists(dir / name)) {
      if (auto r = fs.remove(dir / name); !r) return r.error();
    }
  }
  return Log(std::move(impl));
}

}  // namespace failover::store
