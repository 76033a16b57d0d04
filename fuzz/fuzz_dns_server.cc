// What `failover dns` reads from anyone: DNS packets (UDP and TCP), HTTPDNS
// query strings, and its own config file. The first byte picks which. Every
// DNS reply must fit its limit and read back; every HTTPDNS reply must be
// JSON; a config is either read or refused with a ConfigError.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config_error.h"
#include "dns/config.h"
#include "dns/httpdns.h"
#include "dns/responder.h"

using namespace failover;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const dns::ZoneSnapshot& zone() {
  static const std::shared_ptr<const dns::ZoneSnapshot> snapshot = [] {
    dns::DnsConfig c;
    dns::DomainConfig www;
    www.name = "www.example.com";
    www.targets = {*dns::parse_target("127.0.0.11"), *dns::parse_target("127.0.0.12"), *dns::parse_target("::1")};
    dns::DomainConfig big;
    big.name = "big.example.com";
    for (int i = 1; i <= 60; ++i) big.targets.push_back(*dns::parse_target("10.0.0." + std::to_string(i)));
    c.domains = {www, big};
    return dns::Zone(c, core::TimePoint{}, 1).snapshot();
  }();
  return *snapshot;
}

void fuzz_packet(std::span<const std::uint8_t> packet, dns::Transport transport) {
  std::vector<std::uint8_t> out;
  const dns::Response r = dns::respond(zone(), packet, transport, static_cast<unsigned>(packet.size()), out);
  if (!r.send) return;
  check(out.size() <= (transport == dns::Transport::kTcp ? 65535u : std::size_t{net::dns::kOurUdpPayload}));
  const auto m = net::dns::parse_message(out);
  check(m.has_value() && m->header.qr && m->header.tc == r.truncated);
}

void fuzz_httpdns(std::string_view query) {
  const auto p = dns::parse_httpdns_query(query, 32);
  if (!p.ok()) return;
  check(!p->hosts.empty() && p->hosts.size() <= 32);
  dns::check_signature("secret", *p, 1'800'000'000);
  const dns::HttpdnsReply r = dns::httpdns_reply(zone(), *p);
  boost::system::error_code ec;
  boost::json::parse(r.body, ec);
  check(!ec && (r.status == 200 || r.status == 404));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  switch (data[0] % 4) {
    case 0: fuzz_packet(rest, dns::Transport::kUdp); break;
    case 1: fuzz_packet(rest, dns::Transport::kTcp); break;
    case 2: fuzz_httpdns(text); break;
    case 3:
      try {
        const dns::DnsConfig c = dns::parse_dns_config(std::string(text), "fuzz.yaml");
        // The TCP server relies on these: a zero limit would refuse every connection.
        check(c.tcp.max_connections >= 1 && c.tcp.max_connections_per_client >= 1 &&
              c.tcp.idle_timeout.count() > 0);
      } catch (const core::ConfigError&) {
      }
      break;
  }
  return 0;
}
