// The store's KV API door: any request line, headers and body. Nothing may
// crash, an accepted request must satisfy the rules the node relies on
// (a valid key, a bounded value, limit and idempotency key), and every reply
// built from accepted input must be valid JSON.
//
// Input: "METHOD TARGET\n" then "Name: value\n" lines, an empty line, the body.
#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/kv_request.h"

using namespace failover;
using namespace failover::store;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_json(const std::string& body) {
  boost::system::error_code ec;
  boost::json::parse(body, ec);
  check(!ec);
}

net::HttpRequest to_request(std::string_view text) {
  net::HttpRequest r;
  auto line = [&]() {
    const auto nl = text.find('\n');
    std::string_view l = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    return l;
  };
  const std::string_view first = line();
  const auto space = first.find(' ');
  r.method = std::string(first.substr(0, space));
  r.target = space == std::string_view::npos ? "/" : std::string(first.substr(space + 1));
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
  for (std::string_view h = line(); !h.empty(); h = line()) {
    const auto colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = h.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::string(h.substr(0, colon)), std::string(value));
  }
  r.body = std::string(text);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const net::HttpRequest in = to_request(std::string_view(reinterpret_cast<const char*>(data), size));
  const KvParse parsed = parse_kv_request(in);
  if (const auto* refused = std::get_if<net::HttpResponse>(&parsed)) {
    check(refused->status >= 400 && refused->status < 500);
    check_json(refused->body);
    return 0;
  }
  const KvRequest& r = std::get<KvRequest>(parsed);
  if (r.method == KvMethod::kList) {
    check(r.key.empty() && r.limit >= 1 && r.limit <= kMaxListLimit);
    // Listed keys are stored keys, valid UTF-8; values, prefix and after may be any bytes.
    check_json(list_reply({{"k", 1, r.prefix}, {"l", 2, r.after}, {"m", 3, in.body}}, true).body);
  } else {
    check(check_http_key(r.key).empty() && is_valid_utf8(r.key));
    check(r.value.size() <= kMaxHttpValueBytes);
    check(r.idempotency_key.size() <= kMaxHttpIdempotencyKeyBytes);
    check_json(write_reply(r.key, 1, 2, 3).body);
    check_json(not_found_reply(r.key).body);
    check_json(list_reply({{r.key, 1, r.value}}, false).body);
    const Precondition& p = r.precondition;
    if (p.if_match) check(!precondition_holds(p, *p.if_match + 1) && !precondition_holds(p, std::nullopt));
    if (p.if_none_match_any) check(!precondition_holds(p, 7));
    if (!p.any()) check(precondition_holds(p, std::nullopt) && precondition_holds(p, 7));
  }
  return 0;
}
