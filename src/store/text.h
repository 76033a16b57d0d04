#pragma once
// Bytes that JSON replies and quarantine files carry: as a JSON string when
// they are valid UTF-8, else base64 (the "..._base64" fields).
#include <string>
#include <string_view>

namespace failover::store {

// Strict UTF-8: no overlong forms, no UTF-16 surrogates, nothing past U+10FFFF.
bool is_valid_utf8(std::string_view bytes);
// Standard alphabet, padded.
std::string base64_encode(std::string_view bytes);

}  // namespace failover::store
