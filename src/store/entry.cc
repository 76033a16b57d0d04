#include "store/entry.h"

#include <cassert>
#include <cstring>

namespace failover::store {
namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_le(std::string_view bytes, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return v;
}

Decoded corrupt() { return Decoded{Decoded::kCorrupt, {}, 0}; }

}  // namespace

const char* op_name(Op op) {
  switch (op) {
    case Op::kNoop: return "noop";
    case Op::kPut: return "put";
    case Op::kDelete: return "delete";
  }
  return "unknown";
}

uint32_t request_fingerprint(Op op, std::string_view key, std::string_view value) {
  // The key's length first, so that ("ab", "c") and ("a", "bc") differ.
  const char head[5] = {static_cast<char>(op), static_cast<char>(key.size() & 0xFF),
                        static_cast<char>((key.size() >> 8) & 0xFF), static_cast<char>((key.size() >> 16) & 0xFF),
                        static_cast<char>((key.size() >> 24) & 0xFF)};
  uint32_t state = crc32c_extend(~0u, std::string_view(head, sizeof head));
  state = crc32c_extend(state, key);
  const uint32_t f = ~crc32c_extend(state, value);
  return f == 0 ? 1 : f;
}

core::Result<void> check_limits(const Entry& entry) {
  if (entry.key.size() > kMaxKeyBytes) return core::Error::invalid("key longer than 4 KiB");
  if (entry.value.size() > kMaxValueBytes) return core::Error::invalid("value longer than 64 MiB");
  if (entry.idempotency_key.size() > kMaxIdempotencyKeyBytes) {
    return core::Error::invalid("idempotency key longer than 65535 bytes");
  }
  if (entry.op != Op::kNoop && entry.op != Op::kPut && entry.op != Op::kDelete) {
    return core::Error::invalid("unknown op");
  }
  return core::ok();
}

std::vector<const Entry*> entry_pointers(const std::vector<SharedEntry>& entries) {
  std::vector<const Entry*> out;
  out.reserve(entries.size());
  for (const SharedEntry& e : entries) out.push_back(e.get());
  return out;
}

size_t encoded_size(const Entry& entry) {
  return kMinFrameBytes + entry.key.size() + entry.value.size() + entry.idempotency_key.size();
}

void append_encoded(std::string& out, const Entry& entry) {
  assert(check_limits(entry).ok());
  const size_t start = out.size();
  const size_t size = encoded_size(entry);
  out.reserve(start + size);
  put_le(out, size - 4, 4);
  put_le(out, 0, 4);  // the crc, filled in below once the body is there
  put_le(out, entry.epoch, 8);
  put_le(out, entry.seq, 8);
  out.push_back(static_cast<char>(entry.op));
  put_le(out, entry.key.size(), 4);
  out += entry.key;
  put_le(out, entry.value.size(), 4);
  out += entry.value;
  put_le(out, entry.idempotency_key.size(), 2);
  out += entry.idempotency_key;
  const uint32_t crc = crc32c(std::string_view(out).substr(start + 8));
  for (int i = 0; i < 4; ++i) out[start + 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
}

Decoded decode_entry(std::string_view bytes) {
  if (bytes.size() < 4) return Decoded{};
  const uint64_t length = get_le(bytes, 0, 4);
  // Checked before waiting for more: a torn or zeroed length must not make a
  // reader wait for gigabytes that will never come.
  if (length < kMinFrameBytes - 4 || length > kMaxFrameBytes - 4) return corrupt();
  if (bytes.size() - 4 < length) return Decoded{};
  const std::string_view frame = bytes.substr(0, 4 + length);
  if (get_le(frame, 4, 4) != crc32c(frame.substr(8))) return corrupt();

  Decoded d{Decoded::kOk, {}, frame.size()};
  d.entry.epoch = get_le(frame, 8, 8);
  d.entry.seq = get_le(frame, 16, 8);
  const uint8_t op = static_cast<uint8_t>(frame[24]);
  if (op > static_cast<uint8_t>(Op::kDelete)) return corrupt();
  d.entry.op = static_cast<Op>(op);

  // Each length is checked against what is left before it is used; the
  // minimum frame size above guarantees the fixed fields are there.
  size_t at = 25;
  const uint64_t key_len = get_le(frame, at, 4);
  at += 4;
  if (key_len > kMaxKeyBytes || key_len > frame.size() - at - 4 - 2) return corrupt();
  d.entry.key.assign(frame.substr(at, key_len));
  at += key_len;
  const uint64_t value_len = get_le(frame, at, 4);
  at += 4;
  if (value_len > kMaxValueBytes || value_len > frame.size() - at - 2) return corrupt();
  d.entry.value.assign(frame.substr(at, value_len));
  at += value_len;
  const uint64_t idem_len = get_le(frame, at, 2);
  at += 2;
  if (idem_len != frame.size() - at) return corrupt();  // must end exactly at the frame's end
  d.entry.idempotency_key.assign(frame.substr(at, idem_len));
  return d;
}

}  // namespace failover::store
