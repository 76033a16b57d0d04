#include "store/epoch_history.h"

#include <algorithm>
#include <optional>
#include <boost/json.hpp>

namespace failover::store {
namespace {

std::optional<uint64_t> as_u64(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
  return std::nullopt;
}

}  // namespace

bool EpochHistory::add(uint64_t epoch, uint64_t first_seq) {
  if (!starts_.empty() && (epoch <= starts_.back().epoch || first_seq < starts_.back().first_seq)) return false;
  starts_.push_back({epoch, first_seq});
  return true;
}

uint64_t EpochHistory::last_epoch() const { return starts_.empty() ? 0 : starts_.back().epoch; }

uint64_t EpochHistory::epoch_at(uint64_t seq) const {
  if (seq == 0) return 0;
  // The last start at or before seq; with equal first seqs the later
  // (higher) epoch wins, as it is the one that wrote there.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), seq,
                             [](uint64_t s, const Start& start) { return s < start.first_seq; });
  return it == starts_.begin() ? 0 : std::prev(it)->epoch;
}

uint64_t EpochHistory::end_of(uint64_t epoch, uint64_t log_end) const {
  auto higher = std::upper_bound(starts_.begin(), starts_.end(), epoch,
                                 [](uint64_t e, const Start& start) { return e < start.epoch; });
  return higher == starts_.end() ? log_end + 1 : higher->first_seq;
}

void EpochHistory::truncate_after(uint64_t seq) {
  std::erase_if(starts_, [seq](const Start& s) { return s.first_seq > seq; });
}

EpochHistory EpochHistory::up_to(uint64_t seq) const {
  EpochHistory kept = *this;
  kept.truncate_after(seq);
  return kept;
}

boost::json::array EpochHistory::to_json() const {
  boost::json::array out;
  for (const Start& s : starts_) out.push_back(boost::json::object{{"epoch", s.epoch}, {"first_seq", s.first_seq}});
  return out;
}

core::Result<EpochHistory> EpochHistory::from_json(const boost::json::value& json) {
  const auto* array = json.if_array();
  if (array == nullptr) return core::Error::invalid("epoch history: not an array");
  EpochHistory history;
  for (const boost::json::value& item : *array) {
    const auto* o = item.if_object();
    if (o == nullptr) return core::Error::invalid("epoch history: an element is not an object");
    const auto epoch = as_u64(o->if_contains("epoch"));
    const auto first_seq = as_u64(o->if_contains("first_seq"));
    if (!epoch || !first_seq) return core::Error::invalid("epoch history: needs epoch and first_seq, unsigned integers");
    if (!history.add(*epoch, *first_seq)) return core::Error::invalid("epoch history: not ascending");
  }
  return history;
}

}  // namespace failover::store
