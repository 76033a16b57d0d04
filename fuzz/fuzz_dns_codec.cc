// DNS queries from anyone on the network. Whatever arrives, the parser ends
// (no pointer loop hangs it), and what it accepts gets a reply that fits the
// size limit, says TC exactly when records were left out, echoes the id and
// the question as sent, and reads back as the records that were written.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/dns_codec.h"

using namespace failover::net::dns;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The reply to an error status: header (and question, OPT) only.
void check_error_reply(const ParseResult& r) {
  std::vector<std::uint8_t> out;
  const Rcode rcode = rcode_for(r.status);
  const BuildResult built = build_reply(r.query, {.rcode = rcode, .authoritative = false}, 512, out);
  check(!built.truncated && out.size() <= 512);
  const auto m = parse_message(out);
  check(m.has_value());
  check(m->header.id == r.query.header.id && m->header.qr && !m->header.aa);
  check(m->header.opcode == r.query.header.opcode);
  check(m->questions.size() == (r.query.has_question ? 1u : 0u));
  check(m->edns.has_value() == r.query.edns.has_value());
  const unsigned full_rcode = m->header.rcode | (m->edns ? m->edns->extended_rcode << 4 : 0);
  check(full_rcode == static_cast<unsigned>(rcode) || (!m->edns && rcode == Rcode::kBadVers));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  const ParseResult r = parse_query(in);
  const auto any = parse_message(in);
  check(r.reason != nullptr);
  if (r.status == ParseStatus::kDrop) {
    check(size < kHeaderSize || (data[2] & 0x80));
    return 0;
  }
  // A message that reads whole and is a well-formed query is answered.
  if (any && any->header.opcode == kOpcodeQuery && any->header.qdcount == 1 &&
      (!any->edns || any->edns->version == 0))
    check(r.status == ParseStatus::kOk);
  if (r.status != ParseStatus::kOk) {
    check_error_reply(r);
    return 0;
  }

  const Name& qname = r.query.question.name;
  const auto again = Name::from_text(qname.text());
  check(again && *again == qname);
  check(iequals(qname.lowered(), qname) && is_under(qname, qname) && is_under(qname, Name()));

  // Bytes from the end of the input (ignored by the parser once past the
  // last record) choose the limit and the records.
  const auto byte = [&](std::size_t from_end) { return data[size - 1 - from_end % size]; };
  const std::size_t raw = std::size_t{byte(1)} << 8 | byte(0);
  const std::size_t limit = byte(2) & 1 ? raw % 1600 : raw;
  const Name owner = byte(3) & 1 ? qname.lowered() : qname;
  const Name host = Name::from_text("ns1." + qname.text()).value_or(qname);

  std::vector<Record> answers, authority;
  for (std::size_t i = 0; i < byte(4) % 64u; ++i)
    answers.push_back(Record{owner, kClassIN, byte(5), A{{192, 0, 2, static_cast<std::uint8_t>(i)}}});
  for (std::size_t i = 0; i < byte(6) % 8u; ++i)
    answers.push_back(Record{owner, kClassIN, 30, Aaaa{{0x20, 0x01, 0x0d, 0xb8, static_cast<std::uint8_t>(i)}}});
  if (byte(7) & 1) answers.push_back(Record{owner, kClassIN, 60, Ns{host}});
  if (byte(7) & 2)
    authority.push_back(Record{owner, kClassIN, 300, Soa{host, host, 1, 2, 3, 4, 5}});
  const Rcode rcode = byte(7) & 4 ? Rcode::kNxDomain : Rcode::kNoError;

  std::vector<std::uint8_t> out;
  const BuildResult built =
      build_reply(r.query, {.rcode = rcode, .answers = answers, .authority = authority}, limit, out);
  check(out.size() <= std::max<std::size_t>(limit, 512) && out.size() <= kMaxTcp);
  check(built.truncated == (built.answers < answers.size() || built.authority < authority.size()));
  check(built.answers <= answers.size() && built.authority <= authority.size());

  const auto m = parse_message(out);
  check(m.has_value());
  const Header& h = m->header;
  check(h.id == r.query.header.id && h.qr && h.aa && !h.ra && h.rd == r.query.header.rd);
  check(h.tc == built.truncated && h.rcode == static_cast<unsigned>(rcode));
  check(m->questions.size() == 1 && m->questions[0].name == qname);  // as sent, case too
  check(m->questions[0].qtype == r.query.question.qtype &&
        m->questions[0].qclass == r.query.question.qclass);
  check(m->answers.size() == built.answers && m->authority.size() == built.authority);
  check(m->edns.has_value() == r.query.edns.has_value());
  for (std::size_t i = 0; i < m->answers.size(); ++i) {
    check(iequals(m->answers[i].owner, owner) && m->answers[i].type() == answers[i].type());
    check(m->answers[i].ttl == answers[i].ttl);
  }

  // TCP framing gives the same bytes back.
  std::vector<std::uint8_t> stream(2);
  const auto prefix = tcp_length_prefix(out.size());
  std::copy(prefix.begin(), prefix.end(), stream.begin());
  stream.insert(stream.end(), out.begin(), out.end());
  const auto framed = take_tcp_message(stream);
  check(framed && framed->consumed == stream.size() &&
        std::equal(framed->message.begin(), framed->message.end(), out.begin(), out.end()));
  check(!take_tcp_message(std::span(stream).first(stream.size() - 1)));
  return 0;
}
