// What etcd's JSON gateway sends back (or anything posing as it), and the
// registry's keys and values in etcd: every reply parser (the CAS txn's too)
// and the stream splitter take any bytes without crashing,
// hanging or leaking, and what decodes must encode back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "etcd/codec.h"
#include "registry/etcd_keys.h"

using namespace failover::etcd;
using namespace failover::registry::etcd_keys;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 10) {
    case 0: (void)parse_lease_grant(text); break;
    case 1: (void)parse_lease_keepalive_body(text); break;
    case 2: (void)parse_lease_timetolive(text); break;
    case 3: (void)parse_write_reply(text); break;
    case 4: (void)parse_range(text); break;
    case 5: {
      std::string buffer;
      for (const std::string& m : take_stream_messages(buffer, text)) (void)parse_watch_message(m);
      break;
    }
    case 6: {
      auto decoded = base64_decode(text);
      if (decoded && base64_decode(base64_encode(*decoded)) != decoded) __builtin_trap();
      break;
    }
    case 7: {
      auto v = decode_instance_value(text);
      if (v) {
        auto again = decode_instance_value(encode_instance_value(*v));
        if (!again || !(*again == *v)) __builtin_trap();
      }
      break;
    }
    case 8: (void)parse_txn_reply(text); break;
    default: {
      auto k = split_key("/p", text);
      if (k) {
        const std::string back = k->kind == KeyKind::kAlive ? alive_key("/p", k->service, k->id)
                                                            : instance_key("/p", k->service, k->id);
        if (split_key("/p", back) != k) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
