#include "store/messages.h"

#include <algorithm>
#include <cstring>

namespace failover::store {
namespace {

enum class Type : std::uint8_t { kAppend = 1, kAppendAck = 2, kEpochEnd = 3, kCheckpointOffer = 4, kHandover = 5 };

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Reads fields in order from one frame's body; any overrun sets `bad` and
// makes every later read return zero, so decoders check once at the end.
class Reader {
 public:
  explicit Reader(std::string_view body) : rest_(body) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(fixed(1)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4)); }
  std::uint64_t u64() { return fixed(8); }
  std::string string(std::size_t max) {
    const std::uint32_t n = u32();
    if (n > max || n > rest_.size()) {
      bad_ = true;
      return {};
    }
    std::string s(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return s;
  }
  std::string_view take_rest() {
    std::string_view r = rest_;
    rest_ = {};
    return r;
  }
  bool bad() const { return bad_; }
  bool done() const { return rest_.empty(); }
  void fail() { bad_ = true; }

 private:
  std::uint64_t fixed(std::size_t n) {
    if (bad_ || rest_.size() < n) {
      bad_ = true;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(rest_[i])) << (8 * i);
    rest_.remove_prefix(n);
    return v;
  }
  std::string_view rest_;
  bool bad_ = false;
};

constexpr std::size_t kMaxName = 256;
// An offer lists the files of one RocksDB checkpoint and the epochs before
// it: a few dozen of each in practice; these bounds only refuse garbage.
constexpr std::uint32_t kMaxOfferFiles = 100'000;
constexpr std::uint32_t kMaxOfferEpochs = 1'000'000;

void encode_append_body(std::string& out, const Append& m, std::span<const Entry* const> entries) {
  put_u8(out, static_cast<std::uint8_t>(Type::kAppend));
  put_u64(out, m.epoch);
  put_string(out, m.from);
  put_u64(out, m.prev_seq);
  put_u64(out, m.commit_seq);
  put_u64(out, m.beacon);
  put_u8(out, m.in_sync ? 1 : 0);
  put_u8(out, m.rank);
  put_u32(out, static_cast<std::uint32_t>(entries.size()));
  std::size_t bytes = 0;
  for (const Entry* e : entries) bytes += encoded_size(*e);
  out.reserve(out.size() + bytes);
  for (const Entry* e : entries) append_encoded(out, *e);
}
void encode_body(std::string& out, const Append& m) {
  std::vector<const Entry*> entries;
  entries.reserve(m.entries.size());
  for (const Entry& e : m.entries) entries.push_back(&e);
  encode_append_body(out, m, entries);
}
void encode_body(std::string& out, const AppendAck& m) {
  put_u8(out, static_cast<std::uint8_t>(Type::kAppendAck));
  put_u64(out, m.epoch);
  put_string(out, m.from);
  put_string(out, m.storage_id);
  put_u8(out, static_cast<std::uint8_t>(m.status));
  put_u64(out, m.last_seq);
  put_u64(out, m.last_epoch);
  put_u64(out, m.durable_seq);
  put_u64(out, m.beacon);
}
void encode_body(std::string& out, const EpochEnd& m) {
  put_u8(out, static_cast<std::uint8_t>(Type::kEpochEnd));
  put_u64(out, m.epoch);
  put_string(out, m.from);
  put_u64(out, m.leader_epoch);
  put_u64(out, m.end);
}

void encode_body(std::string& out, const Handover& m) {
  put_u8(out, static_cast<std::uint8_t>(Type::kHandover));
  put_u64(out, m.epoch);
  put_string(out, m.from);
}

void encode_body(std::string& out, const CheckpointOffer& m) {
  put_u8(out, static_cast<std::uint8_t>(Type::kCheckpointOffer));
  put_u64(out, m.epoch);
  put_string(out, m.from);
  put_string(out, m.id);
  put_u64(out, m.seq);
  put_u32(out, static_cast<std::uint32_t>(m.epochs.size()));
  for (const EpochHistory::Start& e : m.epochs) {
    put_u64(out, e.epoch);
    put_u64(out, e.first_seq);
  }
  put_u32(out, static_cast<std::uint32_t>(m.files.size()));
  for (const CheckpointFile& f : m.files) {
    put_string(out, f.name);
    put_u64(out, f.size);
    put_u32(out, f.crc32c);
  }
}

core::Result<Message> decode_append(Reader& r) {
  Append m;
  m.epoch = r.u64();
  m.from = r.string(kMaxName);
  m.prev_seq = r.u64();
  m.commit_seq = r.u64();
  m.beacon = r.u64();
  const std::uint8_t in_sync = r.u8();
  m.rank = r.u8();
  const std::uint32_t count = r.u32();
  if (in_sync > 1) return core::Error::invalid("append: bad in_sync flag");
  m.in_sync = in_sync == 1;
  if (r.bad()) return core::Error::invalid("append: truncated header");
  std::string_view rest = r.take_rest();
  for (std::uint32_t i = 0; i < count; ++i) {
    Decoded d = decode_entry(rest);
    if (d.status != Decoded::kOk) return core::Error::invalid("append: entry " + std::to_string(i) + " is damaged");
    if (d.entry.seq != m.prev_seq + 1 + i) return core::Error::invalid("append: entries out of sequence");
    m.entries.push_back(std::move(d.entry));
    rest.remove_prefix(d.size);
  }
  if (!rest.empty()) return core::Error::invalid("append: bytes after the last entry");
  return Message(std::move(m));
}

core::Result<Message> decode_ack(Reader& r) {
  AppendAck m;
  m.epoch = r.u64();
  m.from = r.string(kMaxName);
  m.storage_id = r.string(kMaxName);
  const std::uint8_t status = r.u8();
  m.last_seq = r.u64();
  m.last_epoch = r.u64();
  m.durable_seq = r.u64();
  m.beacon = r.u64();
  if (r.bad() || !r.done()) return core::Error::invalid("ack: wrong size");
  if (status > static_cast<std::uint8_t>(AppendAck::Status::kStaleEpoch)) return core::Error::invalid("ack: unknown status");
  m.status = static_cast<AppendAck::Status>(status);
  return Message(std::move(m));
}

core::Result<Message> decode_epoch_end(Reader& r) {
  EpochEnd m;
  m.epoch = r.u64();
  m.from = r.string(kMaxName);
  m.leader_epoch = r.u64();
  m.end = r.u64();
  if (r.bad() || !r.done()) return core::Error::invalid("epoch end: wrong size");
  return Message(std::move(m));
}

core::Result<Message> decode_handover(Reader& r) {
  Handover m;
  m.epoch = r.u64();
  m.from = r.string(kMaxName);
  if (r.bad() || !r.done()) return core::Error::invalid("handover: wrong size");
  return Message(std::move(m));
}

core::Result<Message> decode_checkpoint_offer(Reader& r) {
  CheckpointOffer m;
  m.epoch = r.u64();
  m.from = r.string(kMaxName);
  m.id = r.string(kMaxName);
  m.seq = r.u64();
  const std::uint32_t epochs = r.u32();
  if (r.bad() || epochs > kMaxOfferEpochs) return core::Error::invalid("checkpoint offer: bad header");
  if (!is_plain_file_name(m.id)) return core::Error::invalid("checkpoint offer: bad checkpoint id");
  EpochHistory history;  // only to check the order
  for (std::uint32_t i = 0; i < epochs && !r.bad(); ++i) {
    EpochHistory::Start e{r.u64(), r.u64()};
    if (r.bad() || e.first_seq > m.seq + 1 || !history.add(e.epoch, e.first_seq))
      return core::Error::invalid("checkpoint offer: epochs out of order");
    m.epochs.push_back(e);
  }
  const std::uint32_t files = r.u32();
  if (r.bad() || files > kMaxOfferFiles) return core::Error::invalid("checkpoint offer: bad file count");
  for (std::uint32_t i = 0; i < files; ++i) {
    CheckpointFile f;
    f.name = r.string(kMaxName);
    f.size = r.u64();
    f.crc32c = r.u32();
    if (r.bad()) return core::Error::invalid("checkpoint offer: truncated file list");
    if (!is_plain_file_name(f.name)) return core::Error::invalid("checkpoint offer: bad file name");
    m.files.push_back(std::move(f));
  }
  if (!r.done()) return core::Error::invalid("checkpoint offer: bytes after the file list");
  return Message(std::move(m));
}

}  // namespace

bool is_plain_file_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::uint64_t epoch_of(const Message& m) {
  return std::visit([](const auto& x) { return x.epoch; }, m);
}

const std::string& sender_of(const Message& m) {
  return std::visit([](const auto& x) -> const std::string& { return x.from; }, m);
}

namespace {

// Frames `encode_body` with the length of what it appended.
template <typename EncodeBody>
void frame(std::string& out, EncodeBody encode_body) {
  const std::size_t start = out.size();
  put_u32(out, 0);  // patched below, once the body's size is known
  encode_body();
  const auto length = static_cast<std::uint32_t>(out.size() - start - 4);
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>(length >> (8 * i));
}

}  // namespace

void encode(std::string& out, const Message& m) {
  frame(out, [&] { std::visit([&out](const auto& x) { encode_body(out, x); }, m); });
}

void encode_append(std::string& out, const Append& header, std::span<const Entry* const> entries) {
  frame(out, [&] { encode_append_body(out, header, entries); });
}

core::Result<DecodedFrame> decode_frame(std::string_view bytes) {
  if (bytes.size() < 4) return DecodedFrame{};
  Reader header(bytes.substr(0, 4));
  const std::uint32_t length = header.u32();
  if (length == 0 || length > kMaxFrame) return core::Error::invalid("frame length " + std::to_string(length) + " out of bounds");
  if (bytes.size() - 4 < length) return DecodedFrame{std::nullopt, 4 + std::size_t{length}};
  Reader r(bytes.substr(4, length));
  const auto type = static_cast<Type>(r.u8());
  core::Result<Message> m = core::Error::invalid("unknown message type " + std::to_string(static_cast<int>(type)));
  switch (type) {
    case Type::kAppend: m = decode_append(r); break;
    case Type::kAppendAck: m = decode_ack(r); break;
    case Type::kEpochEnd: m = decode_epoch_end(r); break;
    case Type::kCheckpointOffer: m = decode_checkpoint_offer(r); break;
    case Type::kHandover: m = decode_handover(r); break;
  }
  if (!m) return m.error();
  return DecodedFrame{std::move(*m), 4 + std::size_t{length}};
}

}  // namespace failover::store
