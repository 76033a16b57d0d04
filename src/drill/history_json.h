#pragma once
// A history (history.h) as text, one JSON object a line, so that any client
// can record one and `failover check-history` judge it:
//
//   {"client":"c1","op":"write","key":"k1","value":"c1-7","start_ms":12.5,
//    "end_ms":14.0,"outcome":"ok"}
//
// op: "read" or "write". value: the value written or read; null for a read
// that found no value. start_ms, end_ms: any one clock, in ms, end >= start.
// A write's value must be its own on its key (a value names its write).
// outcome: "ok", "failed" (certainly not applied: a refusal) or "unknown"
// (a timeout, a dropped connection; a write may have been applied). A read
// whose outcome is not "ok" is left out of the check. `failover drill
// --history` writes this.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "drill/history.h"

namespace failover::drill {

// Times as ms since t0.
std::string history_to_json_lines(const std::vector<Operation>& history, core::TimePoint t0);

// Blank lines are skipped. An error names the first bad line as
// "SOURCE:3: what is wrong", SOURCE being the file's name.
core::Result<std::vector<Operation>> history_from_json_lines(std::string_view text, std::string_view source);

}  // namespace failover::drill
