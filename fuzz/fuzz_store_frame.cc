// The store's replication frames (store/messages.h): a peer's connection may
// carry anything, so decode_frame takes any bytes without crashing or
// reading out of bounds, and every message it decodes encodes back to the
// same frame.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/messages.h"

using namespace failover::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const auto d = decode_frame(rest);
    if (!d.ok() || !d->message) break;  // garbage or incomplete: the reader closes or waits
    if (d->size == 0 || d->size > rest.size()) __builtin_trap();
    std::string again;
    encode(again, *d->message);
    if (again != rest.substr(0, d->size)) __builtin_trap();
    rest.remove_prefix(d->size);
  }
  return 0;
}
