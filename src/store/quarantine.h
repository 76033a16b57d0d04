#pragma once
// What a log truncation cuts is kept in a quarantine file before the cut,
// so an operator can see (and replay by hand) writes a deposed primary
// accepted but never committed. One JSON object a line:
//
//   {"epoch":3,"seq":41,"op":"put","key":"k","value":"v"}
//
// A key or value that is not valid UTF-8 goes as "key_base64" /
// "value_base64" instead; a non-empty idempotency key as "idempotency_key"
// (or "idempotency_key_base64"). Internal to the store (Log uses it).
#include <span>
#include <string>
#include <string_view>

#include "store/entry.h"
#include "store/file_system.h"

namespace failover::store {

// The lines for `entries`, each ending in "\n".
std::string quarantine_lines(std::span<const Entry> entries);

// Writes `entries` durably to a new file `dir`/<counter>.jsonl (the counter
// one above the largest there, 000001 first), creating `dir` when needed.
// The file and its name are fsynced before this returns.
core::Result<Path> write_quarantine(FileSystem& fs, const Path& dir, std::span<const Entry> entries);

}  // namespace failover::store
