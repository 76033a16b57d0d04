// Log: append, sync and read (recovery is in log_open.cc, cuts in log_cut.cc).
#include <boost/json.hpp>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <mutex>

#include "store/log_impl.h"

namespace failover::store {

std::string segment_name(uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(first_seq));
  return name;
}

std::optional<uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() != 24 || !name.ends_with(".log")) return std::nullopt;
  uint64_t seq = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, seq);
  if (ec != std::errc() || end != name.data() + 20) return std::nullopt;
  return seq;
}

std::string base_to_json(const LogBase& base) {
  boost::json::object o;
  o["base_seq"] = base.seq;
  o["base_epoch"] = base.epoch;
  o["epochs"] = base.epochs.to_json();
  return boost::json::serialize(o) + "\n";
}

core::Result<LogBase> base_from_json(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(text, ec);
  const auto* o = json.if_object();
  if (ec || o == nullptr) return core::Error::internal("not a JSON object");
  const auto* seq = o->if_contains("base_seq");
  const auto* epoch = o->if_contains("base_epoch");
  const auto* epochs = o->if_contains("epochs");
  if (seq == nullptr || !seq->is_number() || epoch == nullptr || !epoch->is_number() || epochs == nullptr) {
    return core::Error::internal("needs base_seq, base_epoch and epochs");
  }
  auto history = EpochHistory::from_json(*epochs);
  if (!history) return core::Error::internal(history.error().message);
  boost::system::error_code conv;
  LogBase base{seq->to_number<uint64_t>(conv), 0, std::move(*history)};
  if (!conv) base.epoch = epoch->to_number<uint64_t>(conv);
  if (conv) return core::Error::internal("base_seq and base_epoch must be unsigned integers");
  return base;
}

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::Log(Log&&) noexcept = default;
Log& Log::operator=(Log&&) noexcept = default;
Log::~Log() = default;

uint64_t Log::first_seq() const {
  std::shared_lock lock(impl_->mu);
  return impl_->base.seq + 1;
}

uint64_t Log::last_seq() const {
  std::shared_lock lock(impl_->mu);
  return impl_->last_seq;
}

uint64_t Log::last_epoch() const {
  std::shared_lock lock(impl_->mu);
  return impl_->last_epoch;
}

EpochHistory Log::epochs() const {
  std::shared_lock lock(impl_->mu);
  return impl_->epochs;
}

std::optional<uint64_t> Log::damaged_from() const {
  std::shared_lock lock(impl_->mu);
  return impl_->damaged_from;
}

core::Result<void> Log::append(std::span<const Entry> entries) {
  std::vector<const Entry*> all;
  all.reserve(entries.size());
  for (const Entry& e : entries) all.push_back(&e);
  return impl_->append(all);
}

core::Result<void> Log::append(const std::vector<SharedEntry>& entries) { return impl_->append(entry_pointers(entries)); }

core::Result<void> Log::Impl::append(std::span<const Entry* const> entries) {
  Impl& s = *this;
  if (s.failed) return *s.failed;
  uint64_t next = s.last_seq + 1;
  uint64_t epoch = s.last_epoch;
  for (const Entry* entry : entries) {
    const Entry& e = *entry;
    if (e.seq != next) return core::Error::invalid("append: seq " + std::to_string(e.seq) + ", expected " + std::to_string(next));
    if (e.epoch < epoch) return core::Error::invalid("append: epoch " + std::to_string(e.epoch) + " below " + std::to_string(epoch));
    if (auto r = check_limits(e); !r) return r;
    ++next;
    epoch = e.epoch;
  }

  // Frames go out one write per segment; the index learns of them only once
  // they are in the file, so a reader never looks past what was written.
  std::string pending;
  std::vector<uint64_t> pending_offsets;
  size_t first_pending = 0;  // index into entries of pending's first frame
  auto flush = [&]() -> core::Result<void> {
    if (pending.empty()) return core::ok();
    if (auto r = s.active->append(pending); !r) return s.fail(r.error());
    s.active_unsynced = true;
    std::unique_lock lock(s.mu);
    Segment& seg = s.segments.back();
    seg.offsets.insert(seg.offsets.end(), pending_offsets.begin(), pending_offsets.end());
    seg.size += pending.size();
    for (size_t i = first_pending; i < first_pending + pending_offsets.size(); ++i) {
      s.epochs.add(entries[i]->epoch, entries[i]->seq);
      s.last_seq = entries[i]->seq;
      s.last_epoch = entries[i]->epoch;
    }
    first_pending += pending_offsets.size();
    pending.clear();
    pending_offsets.clear();
    return s.reserve_ahead();
  };

  for (const Entry* entry : entries) {
    const Entry& e = *entry;
    const uint64_t size = encoded_size(e);
    const uint64_t filled = s.segments.empty() ? 0 : s.segments.back().size + pending.size();
    // An entry larger than a segment still goes into an empty one.
    const bool roll = s.segments.empty() || (filled > 0 && filled + size > s.options.segment_bytes);
    if (roll) {
      if (auto r = flush(); !r) return r;
      if (s.active) {
        if (auto r = s.close_active(); !r) return r;
      }
      const Path path = s.dir / segment_name(e.seq);
      auto file = s.fs.open_for_append(path);
      if (!file) return s.fail(file.error());
      s.active = std::move(*file);
      s.reserved = 0;
      s.dir_unsynced = true;
      std::unique_lock lock(s.mu);
      s.segments.push_back(Segment{e.seq, path, {}, 0});
    } else if (!s.active) {
      auto file = s.fs.open_for_append(s.segments.back().path);
      if (!file) return s.fail(file.error());
      s.active = std::move(*file);
      s.reserved = 0;
    }
    pending_offsets.push_back(s.segments.back().size + pending.size());
    append_encoded(pending, e);
  }
  return flush();
}

core::Result<void> Log::Impl::reserve_ahead() {
  const uint64_t end = segments.back().size;
  if (end + options.reserve_ahead / 2 <= reserved) return core::ok();
  const uint64_t target = std::min(end + options.reserve_ahead, options.segment_bytes);
  if (target <= end) return core::ok();
  reserved = target;
  if (auto r = active->reserve(target); !r) {
    if (is_disk_full(r.error())) return core::ok();  // leaves `reserved` set: tried once a chunk
    return fail(r.error());
  }
  return core::ok();
}

core::Result<void> Log::Impl::close_active() {
  // The finished segment is made durable, without its reserved zeros,
  // before the next one exists, so a surviving later segment implies a
  // whole earlier one: a gap or a bad frame on reopen is damage, never an
  // unsynced or reserved tail.
  if (auto r = sync(); !r) return r;
  const Segment& seg = segments.back();
  if (reserved > seg.size) {
    if (auto r = fs.truncate(seg.path, seg.size); !r) return fail(r.error());
  }
  if (auto r = active->close(); !r) return fail(r.error());
  active.reset();
  reserved = 0;
  return core::ok();
}

core::Result<void> Log::sync() { return impl_->sync(); }

core::Result<void> Log::Impl::sync() {
  Impl& s = *this;
  if (s.failed) return *s.failed;
  if (s.active && s.active_unsynced) {
    if (auto r = s.active->sync(); !r) return s.fail(r.error());
    s.active_unsynced = false;
  }
  if (s.dir_unsynced) {
    if (auto r = s.fs.sync_dir(s.dir); !r) return s.fail(r.error());
    s.dir_unsynced = false;
  }
  return core::ok();
}

core::Result<std::vector<Entry>> Log::read(uint64_t from_seq, uint64_t max_bytes) const {
  std::shared_lock lock(impl_->mu);
  if (from_seq <= impl_->base.seq) {
    return core::Error::not_found("seq " + std::to_string(from_seq) + " is before the log's first " +
                                  std::to_string(impl_->base.seq + 1));
  }
  return impl_->read_locked(from_seq, impl_->last_seq + 1, max_bytes);
}

core::Result<std::vector<Entry>> Log::Impl::read_locked(uint64_t from, uint64_t to, uint64_t max_bytes) const {
  std::vector<Entry> out;
  uint64_t budget = max_bytes;
  for (const Segment& seg : segments) {
    if (from >= to) break;
    if (from >= seg.end_seq()) continue;
    // The frames [from, last] of this segment that fit in the budget, at
    // least one overall.
    uint64_t last = from;
    uint64_t bytes = seg.end_of_frame(from) - seg.offsets[from - seg.first_seq];
    if (!out.empty() && bytes > budget) break;
    while (last + 1 < std::min(to, seg.end_seq())) {
      const uint64_t more = seg.end_of_frame(last + 1) - seg.end_of_frame(last);
      if (bytes + more > budget) break;
      bytes += more;
      ++last;
    }
    const uint64_t offset = seg.offsets[from - seg.first_seq];
    auto data = fs.read_range(seg.path, offset, bytes);
    if (!data) return data.error();
    std::string_view rest = *data;
    for (uint64_t seq = from; seq <= last; ++seq) {
      Decoded d = decode_entry(rest);
      if (d.status != Decoded::kOk || d.entry.seq != seq) {
        return core::Error::internal(seg.path.string() + ": entry " + std::to_string(seq) +
                                     " no longer reads back (damaged since the log was opened)");
      }
      rest.remove_prefix(d.size);
      out.push_back(std::move(d.entry));
    }
    budget = bytes >= budget ? 0 : budget - bytes;
    from = last + 1;
    // Stopped inside this segment: the budget is spent.
    if (budget == 0 || from < std::min(to, seg.end_seq())) break;
  }
  return out;
}

}  // namespace failover::store
