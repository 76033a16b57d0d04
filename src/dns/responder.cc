#include "dns/responder.h"

namespace failover::dns {
namespace {

namespace wire = net::dns;
using wire::Rcode;

std::string_view wire_view(const wire::Name& name) {
  return {reinterpret_cast<const char*>(name.wire().data()), name.wire().size()};
}

// The records one question gets from the name it asked for.
wire::Answer answer_for(const NameAnswer& n, std::uint16_t qtype, unsigned rotation,
                        std::vector<wire::Record>& scratch) {
  wire::Answer a;
  switch (qtype) {
    case wire::kTypeA: a.answers = n.a(rotation); break;
    case wire::kTypeAAAA: a.answers = n.aaaa(rotation); break;
    case wire::kTypeSOA: a.answers = {&n.soa, 1}; break;
    case wire::kTypeNS: a.answers = {&n.ns, 1}; break;
    case wire::kTypeANY: {
      scratch.clear();
      for (const wire::Record& r : n.a(rotation)) scratch.push_back(r);
      for (const wire::Record& r : n.aaaa(rotation)) scratch.push_back(r);
      a.answers = scratch;
      break;
    }
    default: break;
  }
  if (a.answers.empty()) a.authority = {&n.soa, 1};  // NODATA (RFC 2308 2.2)
  return a;
}

}  // namespace

Response respond(const ZoneSnapshot& zone, std::span<const std::uint8_t> packet, Transport transport,
                 unsigned rotation, std::vector<std::uint8_t>& out) {
  Response r;
  const wire::ParseResult parsed = wire::parse_query(packet);
  if (parsed.status == wire::ParseStatus::kDrop) {
    r.reason = parsed.reason;
    return r;
  }
  const std::size_t limit =
      // Never more over UDP than we advertise: larger replies fragment, and
      // a server that sends 4 KiB to a forged 40-byte query is an amplifier.
      transport == Transport::kTcp ? wire::kMaxTcp : wire::udp_reply_limit(parsed.query.edns, wire::kOurUdpPayload);
  r.send = true;
  wire::Answer answer;
  thread_local std::vector<wire::Record> scratch;
  if (parsed.status != wire::ParseStatus::kOk) {
    r.reason = parsed.reason;
    answer.rcode = wire::rcode_for(parsed.status);
    answer.authoritative = false;
  } else {
    const wire::Question& q = parsed.query.question;
    const wire::Name lower = q.name.lowered();
    const NameAnswer* n = nullptr;
    const bool in_class = q.qclass == wire::kClassIN || q.qclass == wire::kClassANY;
    if (in_class && q.qtype != wire::kTypeAXFR && q.qtype != 251 /* IXFR */)
      n = zone.find_enclosing(wire_view(lower));
    if (!n) {
      answer.rcode = Rcode::kRefused;
      answer.authoritative = false;
    } else if (n->name.size() + 2 != lower.wire().size()) {  // below the name, not it
      if (!zone.is_empty_non_terminal(wire_view(lower))) answer.rcode = Rcode::kNxDomain;
      answer.authority = {&n->soa, 1};  // NXDOMAIN, or NODATA for a name between two of ours
    } else {
      answer = answer_for(*n, q.qtype, rotation, scratch);
    }
  }
  r.rcode = answer.rcode;
  r.truncated = wire::build_reply(parsed.query, answer, limit, out).truncated;
  return r;
}

}  // namespace failover::dns
