// HTTPDNS reply bodies and persisted cache files: both come from outside the
// process (a server, perhaps not ours; a file anyone with the directory may
// edit). Whatever arrives, the parsers end without a crash, and what they
// accept holds what the resolver relies on: every answer has an address,
// every address is canonical and of its family, the TTL is capped, and an
// accepted answer or file reads back the same after writing it out.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/httpdns_reply.h"
#include "client/resolver_cache_file.h"

using namespace failover::client;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_addresses(const std::vector<std::string>& ips, int family) {
  check(ips.size() <= kMaxAddresses);
  for (const auto& ip : ips) {
    unsigned char bytes[16];
    char back[INET6_ADDRSTRLEN];
    check(inet_pton(family, ip.c_str(), bytes) == 1);
    check(inet_ntop(family, bytes, back, sizeof back) && ip == back);
  }
}

void check_answer(const HostAnswer& a) {
  check(!a.empty());
  check(a.ttl.count() >= 0 && a.ttl <= kMaxTtl);
  check_addresses(a.ips, AF_INET);
  check_addresses(a.ipsv6, AF_INET6);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const auto reply = parse_httpdns_reply(in);
  const std::vector<HostReply> hosts = reply.value_or({});
  for (const auto& h : hosts) {
    check(h.answer.ok() || !h.answer.error().message.empty());
    if (!h.answer) continue;
    check_answer(*h.answer);
    check(find_host(hosts, h.host) != nullptr);
    // What the CLI prints for it parses back to the same answer.
    if (valid_host_name(h.host)) {
      const auto again = parse_httpdns_reply(format_httpdns_reply(h.host, *h.answer, h.answer->ttl));
      check(again.ok() && again->size() == 1 && again->front().answer.ok() &&
            *again->front().answer == *h.answer);
    }
  }

  const auto file = parse_cache_file(in);
  if (file.ok()) {
    for (const auto& e : *file) {
      check(valid_host_name(e.host) && normalize_host(e.host) == e.host);
      check(e.fetched_unix_ms >= 0);
      check_answer(e.answer);
    }
    const auto again = parse_cache_file(serialize_cache_file(*file));
    check(again.ok() && *again == *file);
  }

  // The signed target never carries more than the host and its signature.
  const std::string host(in.substr(0, 253));
  if (valid_host_name(host)) {
    const auto target = httpdns_target(host, "secret", 1'700'000'000);
    check(target.starts_with("/d?host=" + host + "&t=1700000000&s=") && target.size() == 8 + host.size() + 16 + 64);
  }
  return 0;
}
