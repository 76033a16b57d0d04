#pragma once
// One record of the replicated log and its on-disk frame. Pure: no I/O, no
// clock, so the libFuzzer target links it alone (fuzz/fuzz_store_entry.cc).
//
// Frame, little-endian (the byte order of every machine we run on, written
// explicitly so a file moves between machines):
//
//   [u32 length of the rest][u32 crc32c of everything after the crc]
//   [u64 epoch][u64 seq][u8 op][u32 key len][key][u32 value len][value]
//   [u16 idempotency key len][idempotency key]
//
// `length` counts the crc and the body (the bytes after the length field).
// A zero length, a length past the limits below, a crc that does not match,
// an unknown op or field lengths that do not add up to `length` make the
// frame corrupt; fewer bytes than the frame needs make it incomplete.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace failover::store {

enum class Op : uint8_t { kNoop = 0, kPut = 1, kDelete = 2 };

// "noop", "put", "delete" (quarantine files, logs).
const char* op_name(Op op);

struct Entry {
  uint64_t epoch = 0;
  uint64_t seq = 0;
  Op op = Op::kNoop;
  std::string key;
  std::string value;
  std::string idempotency_key;
  bool operator==(const Entry&) const = default;
};

// An entry shared, not copied, between the log writer, the peers' frames
// and the apply: a value may be 64 MiB.
using SharedEntry = std::shared_ptr<const Entry>;
// The entries themselves, for the functions that take Entry pointers.
std::vector<const Entry*> entry_pointers(const std::vector<SharedEntry>& entries);

// Limits of one entry. A frame claiming more is corrupt, so a flipped bit in
// a length never makes recovery allocate gigabytes.
inline constexpr size_t kMaxKeyBytes = 4 * 1024;
inline constexpr size_t kMaxValueBytes = 64 * 1024 * 1024;
inline constexpr size_t kMaxIdempotencyKeyBytes = 0xFFFF;  // its length is a u16

// Size of the frame header before the key: length, crc, epoch, seq, op, key len.
inline constexpr size_t kFrameHeaderBytes = 4 + 4 + 8 + 8 + 1 + 4;
// The smallest frame: every field present, all strings empty.
inline constexpr size_t kMinFrameBytes = kFrameHeaderBytes + 4 + 2;
inline constexpr size_t kMaxFrameBytes =
    kMinFrameBytes + kMaxKeyBytes + kMaxValueBytes + kMaxIdempotencyKeyBytes;

// kInvalid when a field is over its limit or the op unknown: what the log
// refuses to append (the client API should refuse it earlier, with a 4xx).
core::Result<void> check_limits(const Entry& entry);

// Bytes append_encoded adds for `entry`.
size_t encoded_size(const Entry& entry);

// Appends the frame of `entry` to `out`. The entry must pass check_limits
// (asserted: the log checks before it encodes).
void append_encoded(std::string& out, const Entry& entry);

struct Decoded {
  enum Status { kOk, kNeedMore, kCorrupt } status = kNeedMore;
  Entry entry;      // when kOk
  size_t size = 0;  // when kOk: bytes of the frame, so the next one starts at bytes[size]
};

// Decodes the frame at the start of `bytes`. kNeedMore when `bytes` holds
// less than the frame its length field announces (or less than a length
// field); kCorrupt when the frame is wrong (see the top of this file). Never
// reads outside `bytes`; takes any input.
Decoded decode_entry(std::string_view bytes);

// CRC-32C (Castagnoli) of `bytes`, as stored in the frame (crc32c.cc).
uint32_t crc32c(std::string_view bytes);
// The running state over several pieces: crc32c(ab) ==
// ~crc32c_extend(crc32c_extend(~0u, a), b). The portable one is the table
// the fast one must agree with (tests).
uint32_t crc32c_extend(uint32_t state, std::string_view bytes);
uint32_t crc32c_extend_portable(uint32_t state, std::string_view bytes);

// What a write asked for (its op, key and value), in 32 bits, kept with its
// idempotency key so that the key can be refused for another request.
// Never 0, which stands for "not known".
uint32_t request_fingerprint(Op op, std::string_view key, std::string_view value);

}  // namespace failover::store
