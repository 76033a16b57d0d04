// The fault text of `failover proxy --fault` and PUT /faults/NAME: any bytes
// parse without crashing or hanging, and what parses prints back to text
// that parses to the same fault.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "drill/fault.h"

using namespace failover::drill;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fault = parse_fault(text);
  if (!fault) return 0;
  auto again = parse_fault(to_string(*fault));
  if (!again || !(*again == *fault)) __builtin_trap();
  return 0;
}
