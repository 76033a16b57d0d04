#pragma once
// HMAC-SHA256 (RFC 2104) through OpenSSL, for signed HTTPDNS requests
// (`s=HEX(HMAC-SHA256(secret, host + t))`). Plain functions, any thread.
#include <string>
#include <string_view>

namespace failover::net {

// Lower-case hex of HMAC-SHA256(key, data): 64 characters.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// a == b in time that depends only on their lengths, so that comparing a
// signature leaks nothing of how much of it was right.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace failover::net
