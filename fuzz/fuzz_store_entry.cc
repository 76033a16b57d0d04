// The store's log frames (store/entry.h): recovery decodes whatever a disk
// holds, so decode_entry takes any bytes without crashing or reading out of
// bounds, and every entry it decodes encodes back to the same frame.
// Second job: an entry built from the input round-trips through encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/entry.h"

using namespace failover::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Every frame of a "segment" in a row, as recovery reads them.
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const Decoded d = decode_entry(rest);
    if (d.status != Decoded::kOk) break;
    if (d.size == 0 || d.size > rest.size()) __builtin_trap();
    std::string again;
    append_encoded(again, d.entry);
    if (again != rest.substr(0, d.size)) __builtin_trap();
    rest.remove_prefix(d.size);
  }

  // An entry from the input: decode(encode(e)) == e.
  if (size >= 17) {
    Entry e;
    for (int i = 0; i < 8; ++i) e.epoch |= static_cast<uint64_t>(data[i]) << (8 * i);
    for (int i = 0; i < 8; ++i) e.seq |= static_cast<uint64_t>(data[8 + i]) << (8 * i);
    e.op = static_cast<Op>(data[16] % 3);
    const std::string_view tail = bytes.substr(17);
    const size_t key_len = std::min(tail.size() / 3, kMaxKeyBytes);
    e.key = tail.substr(0, key_len);
    e.idempotency_key = tail.substr(key_len, std::min(tail.size() / 3, kMaxIdempotencyKeyBytes));
    e.value = tail.substr(key_len + e.idempotency_key.size());
    std::string frame;
    append_encoded(frame, e);
    const Decoded d = decode_entry(frame);
    if (d.status != Decoded::kOk || !(d.entry == e) || d.size != frame.size() || frame.size() != encoded_size(e)) {
      __builtin_trap();
    }
  }
  return 0;
}
