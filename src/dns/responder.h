#pragma once
// The authoritative answer to one DNS query, from a ZoneSnapshot. Pure: no
// I/O, no allocation once `out` has grown, any thread. The UDP and TCP
// servers and the fuzz target all go through respond().
#include <cstdint>
#include <span>
#include <vector>

#include "dns/zone.h"
#include "net/dns_codec.h"

namespace failover::dns {

enum class Transport { kUdp, kTcp };

struct Response {
  bool send = false;  // false: drop the packet (a response, or shorter than a header)
  net::dns::Rcode rcode = net::dns::Rcode::kNoError;
  bool truncated = false;  // TC set: the client should ask again over TCP
  const char* reason = "";  // why the query was malformed, for the log; "" otherwise
};

// Writes the reply to `packet` into `out`:
//   - a configured name: A and AAAA answer its answered targets (turned by
//     `rotation`, so that plain DNS clients spread over them too), SOA and
//     NS its own records, ANY both address types (RFC 8482: a subset is
//     enough), any other type NODATA with the SOA (RFC 2308);
//   - a name below a configured one: NXDOMAIN with that name's SOA (NODATA
//     when another configured name lies below it);
//   - any other name, another class than IN, or a zone transfer: REFUSED;
//   - a malformed query: FORMERR, NOTIMP or BADVERS as parse_query says.
// Over UDP the reply fits the client's EDNS payload size (512 without
// EDNS), at most the kOurUdpPayload we advertise, with TC set when an answer
// record was left out.
Response respond(const ZoneSnapshot& zone, std::span<const std::uint8_t> packet, Transport transport,
                 unsigned rotation, std::vector<std::uint8_t>& out);

}  // namespace failover::dns
