// The history file of `failover check-history` (and `failover drill
// --history`): any bytes parse or give an error naming a line, never a
// crash; what parses is checked, and written back parses to the same
// operations.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "drill/history.h"
#include "drill/history_json.h"

using namespace failover;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto history = drill::history_from_json_lines(text, "fuzz");
  if (!history) {
    if (history.error().message.rfind("fuzz:", 0) != 0) __builtin_trap();
    return 0;
  }
  (void)drill::check_history(*history);
  auto again = drill::history_from_json_lines(drill::history_to_json_lines(*history, core::TimePoint{}), "again");
  if (!again || again->size() != history->size()) __builtin_trap();
  for (std::size_t i = 0; i < history->size(); ++i)
    if ((*again)[i].key != (*history)[i].key || (*again)[i].value != (*history)[i].value ||
        (*again)[i].kind != (*history)[i].kind || (*again)[i].outcome != (*history)[i].outcome)
      __builtin_trap();
  return 0;
}
