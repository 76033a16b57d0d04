#include "net/dns_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// Queries here are built byte by byte, not with the codec, so that the codec
// is checked against the RFC 1035 layout rather than against itself.

namespace failover::net::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

void add16(Bytes& b, std::uint16_t v) {
  b.push_back(v >> 8);
  b.push_back(v & 0xFF);
}

void add32(Bytes& b, std::uint32_t v) {
  add16(b, v >> 16);
  add16(b, v & 0xFFFF);
}

void add(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

// "www.example.com" as labels, uncompressed.
Bytes wire_name(std::string_view dotted) {
  Bytes b;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    dotted = dot == std::string_view::npos ? "" : dotted.substr(dot + 1);
  }
  b.push_back(0);
  return b;
}

Bytes header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
             std::uint16_t ns, std::uint16_t ar) {
  Bytes b;
  for (std::uint16_t v : {id, flags, qd, an, ns, ar}) add16(b, v);
  return b;
}

constexpr std::uint16_t kRd = 0x0100;

// An OPT record: payload size, version, DO, options.
Bytes opt(std::uint16_t payload = 4096, std::uint8_t version = 0, bool dnssec_ok = false,
          const Bytes& options = {}) {
  Bytes b{0};
  add16(b, kTypeOPT);
  add16(b, payload);
  add32(b, std::uint32_t{version} << 16 | (dnssec_ok ? 0x8000 : 0));
  add16(b, static_cast<std::uint16_t>(options.size()));
  add(b, options);
  return b;
}

Bytes query(std::string_view name, std::uint16_t type = kTypeA, bool edns = false,
            std::uint16_t id = 0x1234) {
  Bytes b = header(id, kRd, 1, 0, 0, edns ? 1 : 0);
  add(b, wire_name(name));
  add16(b, type);
  add16(b, kClassIN);
  if (edns) add(b, opt());
  return b;
}

Name name(std::string_view text) { return *Name::from_text(text); }

A a(std::uint8_t last) { return A{{192, 0, 2, last}}; }

Record a_record(std::string_view owner, std::uint8_t last, std::uint32_t ttl = 60) {
  return Record{name(owner), kClassIN, ttl, a(last)};
}

Record soa_record(std::string_view zone) {
  return Record{name(zone), kClassIN, 300,
                Soa{name(std::string("ns1.") + std::string(zone)),
                    name(std::string("hostmaster.") + std::string(zone)), 2024010101, 3600, 600,
                    86400, 60}};
}

ParseResult parsed(const Bytes& b) { return parse_query(b); }

Message reparsed(const Bytes& b) {
  auto m = parse_message(b);
  EXPECT_TRUE(m.has_value());
  return m ? *m : Message{};
}

// ---------------------------------------------------------------- names

TEST(DnsName, TextRoundTrips) {
  EXPECT_EQ(name("www.Example.com").text(), "www.Example.com");
  EXPECT_EQ(name("www.example.com.").text(), "www.example.com");
  EXPECT_EQ(name(".").text(), ".");
  EXPECT_TRUE(name("").is_root());
  EXPECT_EQ(name("a\\.b.c").label_count(), 2u);
  EXPECT_EQ(name("a\\.b.c").text(), "a\\.b.c");
  EXPECT_EQ(name("a\\032b\\\\").text(), "a\\032b\\\\");
  EXPECT_EQ(name("a\\032b").wire()[2], ' ');
  const Name www = name("www.example.com");
  EXPECT_EQ(Bytes(www.wire().begin(), www.wire().end()), wire_name("www.example.com"));
}

TEST(DnsName, RefusesBadText) {
  EXPECT_FALSE(Name::from_text("a..b"));
  EXPECT_FALSE(Name::from_text(".a"));
  EXPECT_FALSE(Name::from_text(std::string(64, 'x') + ".com"));
  EXPECT_TRUE(Name::from_text(std::string(63, 'x') + ".com"));
  EXPECT_FALSE(Name::from_text("a\\"));
  EXPECT_FALSE(Name::from_text("a\\25"));
  EXPECT_FALSE(Name::from_text("a\\256"));
  // 3 x 64 + 62 + 1 = 255 bytes on the wire is the longest name.
  const std::string l63(63, 'x');
  EXPECT_TRUE(Name::from_text(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'y')));
  EXPECT_FALSE(Name::from_text(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'y')));
}

TEST(DnsName, ComparesIgnoringCase) {
  EXPECT_TRUE(iequals(name("WWW.example.COM"), name("www.Example.com")));
  EXPECT_FALSE(name("WWW.example.COM") == name("www.example.com"));
  EXPECT_FALSE(iequals(name("www.example.com"), name("www.example.co")));
  EXPECT_EQ(name("WWW.Example.com").lowered(), name("www.example.com"));
  EXPECT_EQ(name("A\\.B").lowered().text(), "a\\.b");
}

TEST(DnsName, UnderZoneAtLabelBoundaries) {
  EXPECT_TRUE(is_under(name("a.b.Example.com"), name("example.COM")));
  EXPECT_TRUE(is_under(name("example.com"), name("example.com")));
  EXPECT_FALSE(is_under(name("badexample.com"), name("example.com")));
  EXPECT_FALSE(is_under(name("com"), name("example.com")));
  EXPECT_TRUE(is_under(name("com"), name(".")));
}

// ---------------------------------------------------------------- queries

TEST(DnsParse, AQueryWithoutEdns) {
  const ParseResult r = parsed(query("www.Example.com"));
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.reason;
  EXPECT_EQ(r.query.header.id, 0x1234);
  EXPECT_TRUE(r.query.header.rd);
  EXPECT_EQ(r.query.header.opcode, 0);
  EXPECT_TRUE(r.query.has_question);
  EXPECT_EQ(r.query.question.name.text(), "www.Example.com");
  EXPECT_EQ(r.query.question.qtype, kTypeA);
  EXPECT_EQ(r.query.question.qclass, kClassIN);
  EXPECT_FALSE(r.query.edns);
}

TEST(DnsParse, AQueryWithEdns) {
  Bytes b = header(7, 0, 1, 0, 0, 1);
  add(b, wire_name("example.com"));
  add16(b, kTypeAAAA);
  add16(b, kClassIN);
  Bytes cookie{0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};  // option 10: a client cookie
  add(b, opt(1232, 0, true, cookie));
  const ParseResult r = parsed(b);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.reason;
  ASSERT_TRUE(r.query.edns);
  EXPECT_EQ(r.query.edns->udp_payload_size, 1232);
  EXPECT_TRUE(r.query.edns->dnssec_ok);
  EXPECT_EQ(r.query.edns->version, 0);
  EXPECT_EQ(r.query.question.qtype, kTypeAAAA);
  EXPECT_FALSE(r.query.header.rd);
}

TEST(DnsParse, FollowsCompressionPointers) {
  // A query carrying a known answer whose owner points at the question.
  Bytes b = header(1, 0, 1, 1, 0, 0);
  add(b, wire_name("www.example.com"));
  add16(b, kTypeA);
  add16(b, kClassIN);
  add(b, {0xC0, 12});
  add16(b, kTypeA);
  add16(b, kClassIN);
  add32(b, 60);
  add16(b, 4);
  add(b, {192, 0, 2, 1});
  EXPECT_EQ(parsed(b).status, ParseStatus::kOk) << parsed(b).reason;

  // A response: NS rdata "ns1" then a pointer to "example.com" inside the
  // question, and an owner that is a label plus a pointer to a pointer.
  Bytes m = header(1, 0x8400, 1, 2, 0, 0);
  add(m, wire_name("www.example.com"));
  add16(m, kTypeNS);
  add16(m, kClassIN);
  const std::size_t ns_owner = m.size();
  add(m, {0xC0, 12 + 4});  // example.com
  add16(m, kTypeNS);
  add16(m, kClassIN);
  add32(m, 3600);
  add16(m, 6);
  add(m, {3, 'n', 's', '1', 0xC0, 12 + 4});
  add(m, {3, 'f', 't', 'p', 0xC0, static_cast<std::uint8_t>(ns_owner)});
  add16(m, kTypeA);
  add16(m, kClassIN);
  add32(m, 5);
  add16(m, 4);
  add(m, {192, 0, 2, 9});
  const Message msg = reparsed(m);
  ASSERT_EQ(msg.answers.size(), 2u);
  EXPECT_EQ(msg.answers[0].owner.text(), "example.com");
  EXPECT_EQ(std::get<Ns>(msg.answers[0].data).host.text(), "ns1.example.com");
  EXPECT_EQ(msg.answers[1].owner.text(), "ftp.example.com");
  EXPECT_EQ(std::get<A>(msg.answers[1].data).address, a(9).address);
}

// A query with one answer record whose owner is `owner_bytes` (after the
// 12 + 17 + 4 = 33 bytes of header and question).
Bytes query_with_answer_owner(const Bytes& owner_bytes) {
  Bytes b = header(9, 0, 1, 1, 0, 0);
  add(b, wire_name("www.example.com"));
  add16(b, kTypeA);
  add16(b, kClassIN);
  add(b, owner_bytes);
  add16(b, kTypeA);
  add16(b, kClassIN);
  add32(b, 60);
  add16(b, 4);
  add(b, {192, 0, 2, 1});
  return b;
}

TEST(DnsParse, CompressionLoopsAreErrorsNotHangs) {
  constexpr std::uint8_t kOwner = 33;
  // A pointer to itself.
  EXPECT_EQ(parsed(query_with_answer_owner({0xC0, kOwner})).status, ParseStatus::kFormErr);
  // A label, then a pointer back to that label.
  EXPECT_EQ(parsed(query_with_answer_owner({1, 'a', 0xC0, kOwner})).status, ParseStatus::kFormErr);
  // Two pointers to each other: the first one points forward.
  EXPECT_EQ(parsed(query_with_answer_owner({0xC0, kOwner + 2, 0xC0, kOwner})).status,
            ParseStatus::kFormErr);
  // Into the header, whose bytes are no name.
  EXPECT_EQ(parsed(query_with_answer_owner({0xC0, 2})).status, ParseStatus::kFormErr);
  // The question's own name pointing at itself, and a pointer cut in half.
  Bytes b = header(9, 0, 1, 0, 0, 0);
  add(b, {0xC0, 12});
  add16(b, kTypeA);
  add16(b, kClassIN);
  const ParseResult r = parsed(b);
  EXPECT_EQ(r.status, ParseStatus::kFormErr);
  EXPECT_STREQ(r.reason, "compression pointer not backwards (loop)");
  EXPECT_EQ(parsed(query_with_answer_owner({0xC0})).status, ParseStatus::kFormErr);
}

TEST(DnsParse, BoundsPointerChains) {
  // Records whose owners each point to the previous owner, the first to the
  // question: legal, but past kMaxPointerHops it is refused.
  const auto chain = [](std::size_t records) {
    Bytes b = header(9, 0, 1, static_cast<std::uint16_t>(records), 0, 0);
    add(b, wire_name("www.example.com"));
    add16(b, kTypeA);
    add16(b, kClassIN);
    std::size_t previous = 12;
    for (std::size_t i = 0; i < records; ++i) {
      const std::size_t here = b.size();
      add(b, {static_cast<std::uint8_t>(0xC0 | previous >> 8), static_cast<std::uint8_t>(previous)});
      add16(b, kTypeA);
      add16(b, kClassIN);
      add32(b, 60);
      add16(b, 4);
      add(b, {192, 0, 2, 1});
      previous = here;
    }
    return b;
  };
  EXPECT_EQ(parsed(chain(kMaxPointerHops)).status, ParseStatus::kOk);
  const ParseResult r = parsed(chain(kMaxPointerHops + 1));
  EXPECT_EQ(r.status, ParseStatus::kFormErr);
  EXPECT_STREQ(r.reason, "too many compression pointers");
}

TEST(DnsParse, LabelOf64BytesIsFormErr) {
  EXPECT_EQ(parsed(query(std::string(63, 'a') + ".com")).status, ParseStatus::kOk);
  const ParseResult r = parsed(query(std::string(64, 'a') + ".com"));
  EXPECT_EQ(r.status, ParseStatus::kFormErr);
  EXPECT_EQ(r.query.header.id, 0x1234);  // enough for the FORMERR reply
  EXPECT_STREQ(r.reason, "label longer than 63 bytes");
}

TEST(DnsParse, NameOver255IsFormErr) {
  const std::string l63(63, 'x');
  EXPECT_EQ(parsed(query(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'y'))).status,
            ParseStatus::kOk);
  const ParseResult r = parsed(query(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'y')));
  EXPECT_EQ(r.status, ParseStatus::kFormErr);
  EXPECT_STREQ(r.reason, "name longer than 255 bytes");
  // Too long only once a pointer is followed: "z" + a 255-byte question name.
  Bytes b = header(9, 0, 1, 1, 0, 0);
  add(b, wire_name(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'y')));
  add16(b, kTypeA);
  add16(b, kClassIN);
  add(b, {1, 'z', 0xC0, 12});
  add16(b, kTypeA);
  add16(b, kClassIN);
  add32(b, 60);
  add16(b, 4);
  add(b, {192, 0, 2, 1});
  EXPECT_EQ(parsed(b).status, ParseStatus::kFormErr);
}

TEST(DnsParse, EveryTruncationIsDropOrFormErr) {
  for (const Bytes& full : {query("www.example.com"), query("www.example.com", kTypeA, true)}) {
    for (std::size_t size = 0; size < full.size(); ++size) {
      const ParseResult r = parse_query(std::span(full).first(size));
      if (size < kHeaderSize) {
        EXPECT_EQ(r.status, ParseStatus::kDrop) << size;
      } else {
        EXPECT_EQ(r.status, ParseStatus::kFormErr) << size;
        EXPECT_EQ(r.query.header.id, 0x1234);
      }
    }
    EXPECT_EQ(parse_query(full).status, ParseStatus::kOk);
  }
}

TEST(DnsParse, ResponseIsDropped) {
  Bytes b = query("www.example.com");
  b[2] |= 0x80;  // QR
  const ParseResult r = parsed(b);
  EXPECT_EQ(r.status, ParseStatus::kDrop);
  EXPECT_STREQ(r.reason, "a response");
}

TEST(DnsParse, NotOneQuestionIsFormErr) {
  Bytes two = header(5, kRd, 2, 0, 0, 0);
  for (int i = 0; i < 2; ++i) {
    add(two, wire_name("www.example.com"));
    add16(two, kTypeA);
    add16(two, kClassIN);
  }
  ParseResult r = parsed(two);
  EXPECT_EQ(r.status, ParseStatus::kFormErr);
  EXPECT_EQ(r.query.header.id, 5);
  EXPECT_FALSE(r.query.has_question);
  EXPECT_EQ(rcode_for(r.status), Rcode::kFormErr);
  r = parsed(header(5, kRd, 0, 0, 0, 0));
  EXPECT_EQ(r.status, ParseStatus::kFormErr);
}

TEST(DnsParse, OtherOpcodeIsNotImp) {
  Bytes b = query("www.example.com", kTypeSOA, true);
  b[2] |= 5 << 3;  // UPDATE
  const ParseResult r = parsed(b);
  EXPECT_EQ(r.status, ParseStatus::kNotImp);
  EXPECT_EQ(r.query.header.opcode, 5);
  EXPECT_TRUE(r.query.edns);  // so that the NOTIMP carries an OPT
  EXPECT_EQ(rcode_for(r.status), Rcode::kNotImp);
}

TEST(DnsParse, OptRules) {
  Bytes b = query("example.com", kTypeA, true);
  b[11] = 2;  // arcount
  add(b, opt());
  EXPECT_STREQ(parsed(b).reason, "more than one OPT record");

  b = query("example.com");
  b[11] = 1;
  add(b, {1, 'x'});
  add(b, opt());  // its root byte ends the owner "x"; the OPT fields follow
  EXPECT_STREQ(parsed(b).reason, "OPT record not owned by the root");

  b = query("example.com");
  b[7] = 1;  // ancount
  add(b, opt());
  EXPECT_STREQ(parsed(b).reason, "OPT record outside the additional section");

  b = query("example.com");
  b[11] = 1;
  add(b, opt(4096, 0, false, {0, 10, 0, 9, 1, 2, 3}));  // option longer than the rdata
  EXPECT_EQ(parsed(b).status, ParseStatus::kFormErr);

  b = query("example.com");
  b[11] = 1;
  add(b, opt(4096, 1));
  const ParseResult r = parsed(b);
  EXPECT_EQ(r.status, ParseStatus::kBadVers);
  EXPECT_TRUE(r.query.has_question);
}

// ---------------------------------------------------------------- replies

TEST(DnsBuild, SimpleReplyIsTheExpectedBytes) {
  const ParseResult r = parsed(query("a.b", kTypeA));
  ASSERT_EQ(r.status, ParseStatus::kOk);
  const Record answers[] = {a_record("a.b", 1)};
  Bytes out;
  const BuildResult built = build_reply(r.query, {.answers = answers}, 512, out);
  EXPECT_FALSE(built.truncated);
  const Bytes expected = {
      0x12, 0x34, 0x85, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,  // id, QR AA RD, counts
      1, 'a', 1, 'b', 0, 0, 1, 0, 1,                     // the question
      0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1,  // a.b A 192.0.2.1, TTL 60
  };
  EXPECT_EQ(out, expected);
}

TEST(DnsBuild, RecordsParseBack) {
  const ParseResult r = parsed(query("WWW.example.com", kTypeANY));
  const std::vector<Record> answers = {
      a_record("www.example.com", 11), a_record("www.example.com", 12),
      Record{name("www.example.com"), kClassIN, 30, Aaaa{{0x20, 0x01, 0x0d, 0xb8, 15, 0}}},
      Record{name("www.example.com"), kClassIN, 30, Aaaa{{0x20, 0x01, 0x0d, 0xb8, 15, 1}}}};
  Bytes out;
  const BuildResult built = build_reply(r.query, {.answers = answers}, kMaxTcp, out);
  EXPECT_EQ(built.answers, 4u);
  const Message m = reparsed(out);
  EXPECT_TRUE(m.header.qr && m.header.aa && m.header.rd);
  EXPECT_FALSE(m.header.ra || m.header.tc);
  EXPECT_EQ(m.header.id, 0x1234);
  EXPECT_EQ(m.header.rcode, 0);
  ASSERT_EQ(m.answers.size(), 4u);
  EXPECT_EQ(std::get<A>(m.answers[0].data).address, a(11).address);
  EXPECT_EQ(std::get<A>(m.answers[1].data).address, a(12).address);
  EXPECT_EQ(std::get<Aaaa>(m.answers[3].data).address[5], 1);
  EXPECT_EQ(m.answers[2].ttl, 30u);
  // Each owner is a pointer to the question, so it reads as the question's case.
  EXPECT_EQ(m.answers[0].owner.text(), "WWW.example.com");
  EXPECT_EQ(out.size(), 12u + 17 + 4 + 2 * (2 + 10 + 4) + 2 * (2 + 10 + 16));
}

TEST(DnsBuild, EchoesQuestionCase) {
  const Bytes q = query("wWw.ExAmple.COM");
  const ParseResult r = parsed(q);
  const Record answers[] = {a_record("www.example.com", 1)};
  Bytes out;
  build_reply(r.query, {.answers = answers}, 512, out);
  // The question section, byte for byte.
  EXPECT_EQ(Bytes(out.begin() + 12, out.begin() + q.size()), Bytes(q.begin() + 12, q.end()));
}

TEST(DnsBuild, TruncatesWholeRecordsOver512) {
  const ParseResult r = parsed(query("www.example.com"));
  std::vector<Record> answers;
  for (int i = 0; i < 40; ++i) answers.push_back(a_record("www.example.com", i));
  const Record authority[] = {soa_record("example.com")};
  Bytes out;
  // 33 bytes of header and question, then 16 per record: 29 fit in 512.
  const BuildResult built =
      build_reply(r.query, {.answers = answers, .authority = authority}, 512, out);
  EXPECT_TRUE(built.truncated);
  EXPECT_EQ(built.answers, 29u);
  EXPECT_EQ(built.authority, 0u);
  EXPECT_EQ(out.size(), 33u + 29 * 16);
  const Message m = reparsed(out);
  EXPECT_TRUE(m.header.tc);
  EXPECT_EQ(m.answers.size(), 29u);
  EXPECT_TRUE(m.authority.empty());

  // The same over TCP: everything.
  const BuildResult whole =
      build_reply(r.query, {.answers = answers, .authority = authority}, kMaxTcp, out);
  EXPECT_FALSE(whole.truncated);
  EXPECT_EQ(whole.answers, 40u);
  EXPECT_EQ(whole.authority, 1u);
  EXPECT_FALSE(reparsed(out).header.tc);
}

TEST(DnsBuild, AdditionalRecordsDroppedWithoutTc) {
  const ParseResult r = parsed(query("example.com", kTypeNS));
  const Record answers[] = {Record{name("example.com"), kClassIN, 60, Ns{name("ns1.example.com")}}};
  std::vector<Record> glue;
  for (int i = 0; i < 40; ++i) glue.push_back(a_record("ns1.example.com", i));
  Bytes out;
  const BuildResult built = build_reply(r.query, {.answers = answers, .additional = glue}, 512, out);
  EXPECT_FALSE(built.truncated);
  EXPECT_EQ(built.answers, 1u);
  EXPECT_LT(built.additional, 40u);
  EXPECT_LE(out.size(), 512u);
  const Message m = reparsed(out);
  EXPECT_FALSE(m.header.tc);
  EXPECT_EQ(m.additional.size(), built.additional);
}

TEST(DnsBuild, NeverExceedsTheLimit) {
  const ParseResult r = parsed(query("www.example.com", kTypeA, true));
  std::vector<Record> answers;
  for (int i = 0; i < 100; ++i) answers.push_back(a_record("www.example.com", i));
  Bytes out;
  for (std::size_t limit = 0; limit < 2000; limit += 7) {
    for (std::size_t n : {0, 1, 30, 100}) {
      const BuildResult b =
          build_reply(r.query, {.answers = std::span(answers).first(n)}, limit, out);
      EXPECT_LE(out.size(), std::max<std::size_t>(limit, 512));
      EXPECT_EQ(b.truncated, b.answers < n);
      const Message m = reparsed(out);
      EXPECT_EQ(m.answers.size(), b.answers);
      EXPECT_TRUE(m.edns);  // truncated or not
    }
  }
}

TEST(DnsBuild, EchoesOpt) {
  Bytes q = header(3, 0, 1, 0, 0, 1);
  add(q, wire_name("example.com"));
  add16(q, kTypeA);
  add16(q, kClassIN);
  add(q, opt(4096, 0, true));
  const ParseResult r = parsed(q);
  Bytes out;
  build_reply(r.query, {}, udp_reply_limit(r.query.edns), out);
  const Message m = reparsed(out);
  ASSERT_TRUE(m.edns);
  EXPECT_EQ(m.edns->udp_payload_size, kOurUdpPayload);
  EXPECT_TRUE(m.edns->dnssec_ok);
  EXPECT_EQ(m.edns->version, 0);
  EXPECT_EQ(m.header.arcount, 1);
  // Without one in the query, none in the reply.
  build_reply(parsed(query("example.com")).query, {}, 512, out);
  EXPECT_FALSE(reparsed(out).edns);
  EXPECT_EQ(out.size(), 12u + 13 + 4);
}

TEST(DnsBuild, NxDomainCarriesSoaInAuthority) {
  const ParseResult r = parsed(query("nope.example.com"));
  const Record authority[] = {soa_record("example.com")};
  Bytes out;
  build_reply(r.query, {.rcode = Rcode::kNxDomain, .authority = authority}, 512, out);
  const Message m = reparsed(out);
  EXPECT_EQ(m.header.rcode, 3);
  EXPECT_TRUE(m.header.aa);
  EXPECT_TRUE(m.answers.empty());
  ASSERT_EQ(m.authority.size(), 1u);
  const Soa& soa = std::get<Soa>(m.authority[0].data);
  EXPECT_EQ(m.authority[0].owner.text(), "example.com");
  EXPECT_EQ(soa.mname.text(), "ns1.example.com");
  EXPECT_EQ(soa.rname.text(), "hostmaster.example.com");
  EXPECT_EQ(soa.serial, 2024010101u);
  EXPECT_EQ(soa.minimum, 60u);
  // Owner, mname and rname all end in a pointer into the question's name.
  EXPECT_EQ(out.size(), 12u + 18 + 4 + (2 + 10) + (4 + 2) + (11 + 2) + 20);
}

TEST(DnsBuild, CompressesNamesEndingInTheQuestion) {
  const ParseResult r = parsed(query("www.example.com", kTypeNS));
  const Record answers[] = {Record{name("www.example.com"), kClassIN, 60, Ns{name("ns1.example.com")}},
                            Record{name("www.example.com"), kClassIN, 60, Ns{name("ns.other.net")}}};
  Bytes out;
  build_reply(r.query, {.answers = answers}, 512, out);
  const Bytes first = {0xC0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'n', 's', '1', 0xC0, 16};
  EXPECT_EQ(Bytes(out.begin() + 33, out.begin() + 33 + first.size()), first);
  const Message m = reparsed(out);
  EXPECT_EQ(std::get<Ns>(m.answers[1].data).host.text(), "ns.other.net");
}

TEST(DnsBuild, ErrorRepliesCarryTheHeaderOnly) {
  Bytes q = query("www.example.com");
  q.resize(20);  // cut inside the question
  const ParseResult r = parsed(q);
  ASSERT_EQ(r.status, ParseStatus::kFormErr);
  Bytes out;
  build_reply(r.query, {.rcode = rcode_for(r.status), .authoritative = false}, 512, out);
  EXPECT_EQ(out, (Bytes{0x12, 0x34, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(DnsBuild, BadVersUsesTheExtendedRcode) {
  Bytes q = query("example.com");
  q[11] = 1;
  add(q, opt(4096, 1));
  const ParseResult r = parsed(q);
  ASSERT_EQ(r.status, ParseStatus::kBadVers);
  Bytes out;
  build_reply(r.query, {.rcode = rcode_for(r.status), .authoritative = false}, 512, out);
  const Message m = reparsed(out);
  EXPECT_EQ(m.header.rcode, 0);  // 16: low 4 bits in the header ...
  ASSERT_TRUE(m.edns);
  EXPECT_EQ(m.edns->extended_rcode, 1);  // ... the rest in the OPT
  EXPECT_EQ(m.questions.size(), 1u);
}

TEST(DnsBuild, UdpLimitFollowsEdns) {
  EXPECT_EQ(udp_reply_limit(std::nullopt), 512u);
  EXPECT_EQ(udp_reply_limit(Edns{.udp_payload_size = 100}), 512u);
  EXPECT_EQ(udp_reply_limit(Edns{.udp_payload_size = 1232}), 1232u);
  EXPECT_EQ(udp_reply_limit(Edns{.udp_payload_size = 65000}), 4096u);
  EXPECT_EQ(udp_reply_limit(Edns{.udp_payload_size = 4096}, 1232), 1232u);
}

// ---------------------------------------------------------------- TCP

TEST(DnsTcp, LengthPrefixFraming) {
  EXPECT_EQ(tcp_length_prefix(0x1234), (std::array<std::uint8_t, 2>{0x12, 0x34}));
  const Bytes stream = {0, 3, 'a', 'b', 'c', 0, 2, 'd'};
  EXPECT_FALSE(take_tcp_message(std::span(stream).first(1)));
  EXPECT_FALSE(take_tcp_message(std::span(stream).first(4)));
  const auto first = take_tcp_message(stream);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->consumed, 5u);
  EXPECT_EQ(Bytes(first->message.begin(), first->message.end()), (Bytes{'a', 'b', 'c'}));
  EXPECT_FALSE(take_tcp_message(std::span(stream).subspan(5)));  // one byte of two
  const Bytes empty = {0, 0};
  ASSERT_TRUE(take_tcp_message(empty));
  EXPECT_EQ(parse_query(take_tcp_message(empty)->message).status, ParseStatus::kDrop);
}

}  // namespace
}  // namespace failover::net::dns
