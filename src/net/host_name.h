#pragma once
// Host names as HTTPDNS clients send them and `failover dns` is configured
// with: plain RFC 1123 names (plus '_'), compared in lower case. Plain C++,
// any thread.
#include <string>
#include <string_view>

namespace failover::net {

// Host names as they go into /d?host=: 1..253 characters of letters, digits, '-',
// '_' and '.', no empty label, no label over 63. Anything else would need
// escaping in the query string, and the signature covers the host exactly
// as sent, so such names are refused rather than encoded.
bool valid_host_name(std::string_view host);

// Lower case, without a trailing dot: the form used as the cache key and
// sent to the server (DNS names are case-insensitive).
std::string normalize_host(std::string_view host);

}  // namespace failover::net
