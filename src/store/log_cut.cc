// Log: the calls that take entries away (truncate_after, discard_before,
// reset). Each makes its result durable before it returns, in an order
// that a crash at any point leaves a log open() recovers (log.h).
#include <mutex>

#include "store/log_impl.h"
#include "store/quarantine.h"

namespace failover::store {

core::Result<std::vector<Entry>> Log::truncate_after(uint64_t seq, const Path& quarantine_dir) {
  Impl& s = *impl_;
  // Entries kept but not yet synced become durable first: the cut below
  // drops the open file and with it the memory of what it had unsynced.
  if (auto r = sync(); !r) return r.error();
  std::unique_lock lock(s.mu);
  if (seq >= s.last_seq) return std::vector<Entry>{};
  if (seq < s.base.seq) {
    return core::Error::invalid("cannot cut after " + std::to_string(seq) + ": entries up to " +
                                std::to_string(s.base.seq) + " are in a checkpoint");
  }
  auto cut = s.read_locked(seq + 1, s.last_seq + 1, UINT64_MAX);
  if (!cut) return cut.error();
  if (auto written = write_quarantine(s.fs, quarantine_dir, *cut); !written) return s.fail(written.error());

  // Now the log: the later segments go first (and their removal is made
  // durable) so a crash leaves no gap, then the segment holding seq + 1 is
  // cut (left empty when seq + 1 is its first entry: it is then the
  // segment for the next append).
  s.active.reset();
  s.active_unsynced = false;
  s.reserved = 0;
  size_t keep = 0;
  while (keep + 1 < s.segments.size() && s.segments[keep + 1].first_seq <= seq + 1) ++keep;
  for (size_t i = s.segments.size(); i > keep + 1; --i) {
    if (auto r = s.fs.remove(s.segments[i - 1].path); !r) return s.fail(r.error());
  }
  if (auto r = s.fs.sync_dir(s.dir); !r) return s.fail(r.error());
  s.dir_unsynced = false;
  s.segments.resize(keep + 1);
  Segment& seg = s.segments.back();
  const uint64_t size = seq + 1 >= seg.end_seq() ? seg.size : seg.offsets[seq + 1 - seg.first_seq];
  if (auto r = s.fs.truncate(seg.path, size); !r) return s.fail(r.error());
  seg.offsets.resize(seq + 1 - seg.first_seq);
  seg.size = size;

  s.last_seq = seq;
  s.epochs.truncate_after(seq);
  s.last_epoch = seq == s.base.seq ? s.base.epoch : s.epochs.epoch_at(seq);
  return cut;
}

core::Result<void> Log::discard_before(uint64_t seq) {
  Impl& s = *impl_;
  if (auto r = sync(); !r) return r;
  size_t drop = 0;  // segments [0, drop) hold only entries below seq
  while (drop + 1 < s.segments.size() && s.segments[drop + 1].first_seq <= seq) ++drop;
  if (drop == 0) return core::ok();

  std::unique_lock lock(s.mu);
  LogBase base;
  base.seq = s.segments[drop].first_seq - 1;
  base.epochs = s.epochs.up_to(base.seq);
  base.epoch = base.epochs.epoch_at(base.seq);
  // The base first: until it is durable the old segments are the truth.
  if (auto r = write_file_atomically(s.fs, s.dir / kBaseFile, base_to_json(base)); !r) return s.fail(r.error());
  for (size_t i = 0; i < drop; ++i) {
    if (auto r = s.fs.remove(s.segments[i].path); !r) return s.fail(r.error());
  }
  if (auto r = s.fs.sync_dir(s.dir); !r) return s.fail(r.error());
  s.segments.erase(s.segments.begin(), s.segments.begin() + static_cast<std::ptrdiff_t>(drop));
  s.base = std::move(base);
  return core::ok();
}

core::Result<void> Log::reset(uint64_t base_epoch, uint64_t base_seq, EpochHistory history) {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  LogBase base{base_seq, base_epoch, history.up_to(base_seq)};
  if (base.epochs.last_epoch() < base_epoch) base.epochs.add(base_epoch, base_seq);

  std::unique_lock lock(s.mu);
  // reset.json is the intent: once it is durable open() finishes the reset,
  // so a crash never leaves old entries after the new base.
  if (auto r = write_file_atomically(s.fs, s.dir / kResetFile, base_to_json(base)); !r) return s.fail(r.error());
  s.active.reset();
  s.active_unsynced = false;
  s.reserved = 0;
  for (size_t i = s.segments.size(); i > 0; --i) {
    if (auto r = s.fs.remove(s.segments[i - 1].path); !r) return s.fail(r.error());
  }
  if (auto r = s.fs.sync_dir(s.dir); !r) return s.fail(r.error());
  if (auto r = s.fs.rename(s.dir / kResetFile, s.dir / kBaseFile); !r) return s.fail(r.error());
  if (auto r = s.fs.sync_dir(s.dir); !r) return s.fail(r.error());
  s.dir_unsynced = false;

  s.segments.clear();
  s.epochs = base.epochs;
  s.last_seq = base.seq;
  s.last_epoch = base.epoch;
  s.base = std::move(base);
  return core::ok();
}

}  // namespace failover::store
