// The DNS server's state machine: which targets a name answers as probes
// come in, panic, registry targets, and what the responder and HTTPDNS say.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>

#include "core/clock.h"
#include "dns/httpdns.h"
#include "dns/responder.h"
#include "dns/snapshot_cell.h"
#include "dns/zone.h"
#include "net/hmac.h"
#include "support/probes.h"

namespace failover::dns {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace wire = net::dns;

using test::pass;
using test::refused;

DnsConfig two_lbs(bool panic = true) {
  DnsConfig c;
  c.ttl = 60;
  c.panic = panic;
  DomainConfig d;
  d.name = "www.example.com";
  d.targets = {*parse_target("127.0.0.11:8080"), *parse_target("127.0.0.12:8080"), *parse_target("[::1]:8080")};
  d.check.enabled = true;
  d.check.rise = 2;
  d.check.fall = 3;
  c.domains.push_back(d);
  return c;
}

// big.example.com with 64 IPv4 targets: about 1 KiB of A records.
DnsConfig big_name() {
  DnsConfig c;
  DomainConfig d;
  d.name = "big.example.com";
  for (int i = 1; i <= 64; ++i) d.targets.push_back(*parse_target("10.0.0." + std::to_string(i)));
  c.domains.push_back(d);
  return c;
}

std::vector<std::string> ips_of(const Zone& z) { return z.snapshot()->find_text("www.example.com")->ips; }

TEST(DnsZone, TargetLeavesAnswerAfterFallFailuresAndReturnsAfterRise) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.11", "127.0.0.12"));  // new targets start up
  EXPECT_FALSE(z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now()).answer_changed);
  EXPECT_FALSE(z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now()).answer_changed);
  EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.11", "127.0.0.12"));  // 2 of fall=3: still answered
  const Observed down = z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now());
  EXPECT_TRUE(down.answer_changed);
  EXPECT_EQ(down.change, health::Change::kDown);
  EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.12"));
  EXPECT_FALSE(z.observe("www.example.com", "127.0.0.11:8080", pass(), clock.now()).answer_changed);
  EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.12"));  // 1 of rise=2
  EXPECT_TRUE(z.observe("www.example.com", "127.0.0.11:8080", pass(), clock.now()).answer_changed);
  EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.11", "127.0.0.12"));
}

TEST(DnsZone, AllDownAnswersAllInPanicAndNoneWithout) {
  for (bool panic : {true, false}) {
    core::ManualClock clock;
    Zone z(two_lbs(panic), clock.now(), 1);
    Observed last;
    for (const char* t : {"127.0.0.11:8080", "127.0.0.12:8080", "[::1]:8080"})
      for (int i = 0; i < 3; ++i) last = z.observe("www.example.com", t, refused(), clock.now());
    EXPECT_TRUE(last.all_down_started);
    EXPECT_TRUE(z.names()[0].all_down);
    const auto snapshot = z.snapshot();
    const NameAnswer& a = *snapshot->find_text("www.example.com");
    EXPECT_EQ(a.panic, panic);  // panic means answering all, which panic: false does not
    EXPECT_EQ(a.ips.size(), panic ? 2u : 0u);
    EXPECT_EQ(a.ipsv6.size(), panic ? 1u : 0u);
    z.observe("www.example.com", "127.0.0.12:8080", pass(), clock.now());
    EXPECT_TRUE(z.observe("www.example.com", "127.0.0.12:8080", pass(), clock.now()).all_down_ended);
    EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.12"));
  }
}

TEST(DnsZone, UnknownTargetsAndNamesAreIgnored) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  EXPECT_FALSE(z.observe("www.example.com", "10.0.0.1:80", refused(), clock.now()).answer_changed);
  EXPECT_FALSE(z.observe("other.example.com", "127.0.0.11:8080", refused(), clock.now()).answer_changed);
}

TEST(DnsZone, RegistryTargetsKeepTheHealthOfThoseThatStay) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  for (int i = 0; i < 3; ++i) z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now());
  EXPECT_TRUE(z.set_targets("www.example.com", {*parse_target("127.0.0.11:8080"), *parse_target("127.0.0.13:8080")},
                            clock.now())
                  .answer_changed);
  EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.13"));  // .11 still down, .13 new and up
  // The same set in another order, with a duplicate: nothing changed.
  EXPECT_FALSE(z.set_targets("www.example.com", {*parse_target("127.0.0.13:8080"), *parse_target("127.0.0.11:8080"),
                                                 *parse_target("127.0.0.13:8080")},
                             clock.now())
                   .answer_changed);
}

TEST(DnsZone, RegistryUpdateThatLeavesOnlyDownTargetsStartsPanic) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  for (int i = 0; i < 3; ++i) z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now());
  const Observed o = z.set_targets("www.example.com", {*parse_target("127.0.0.11:8080")}, clock.now());
  EXPECT_TRUE(o.all_down_started);
  EXPECT_TRUE(z.snapshot()->find_text("www.example.com")->panic);
  EXPECT_THAT(ips_of(z), ElementsAre("127.0.0.11"));
}

TEST(DnsZone, SerialGrowsWithEveryChangeOfAnAnswer) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  const std::uint32_t before = z.snapshot()->serial;
  for (int i = 0; i < 3; ++i) z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now());
  EXPECT_EQ(z.snapshot()->serial, before + 1);
  EXPECT_EQ(std::get<wire::Soa>(z.snapshot()->find_text("www.example.com")->soa.data).serial, before + 1);
}

TEST(DnsZone, StatusExplainsADownTarget) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  for (int i = 0; i < 3; ++i) z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now());
  EXPECT_EQ(z.names()[0].targets[0].reason(true),
            "active check failed 3 times in a row (last: refused); up again after 2 passing checks (0 so far)");
}

// ---------------------------------------------------------------- responder

std::vector<std::uint8_t> query(std::string_view name, std::uint16_t qtype, std::uint16_t qclass = wire::kClassIN) {
  std::vector<std::uint8_t> q = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  const wire::Name n = *wire::Name::from_text(name);
  q.insert(q.end(), n.wire().begin(), n.wire().end());
  for (std::uint16_t v : {qtype, qclass}) {
    q.push_back(v >> 8);
    q.push_back(v & 0xff);
  }
  return q;
}

wire::Message ask(const Zone& z, std::string_view name, std::uint16_t qtype, unsigned rotation = 0,
                  std::uint16_t qclass = wire::kClassIN) {
  std::vector<std::uint8_t> out;
  const Response r = respond(*z.snapshot(), query(name, qtype, qclass), Transport::kUdp, rotation, out);
  EXPECT_TRUE(r.send);
  return *wire::parse_message(out);
}

std::string a_text(const wire::Record& r) {
  const auto& a = std::get<wire::A>(r.data).address;
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." + std::to_string(a[3]);
}

TEST(DnsResponder, AnswersHealthyTargetsOnlyAndTurnsThem) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  wire::Message m = ask(z, "WWW.example.COM", wire::kTypeA);
  EXPECT_EQ(m.header.rcode, 0);
  EXPECT_TRUE(m.header.aa);
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(a_text(m.answers[0]), "127.0.0.11");
  EXPECT_EQ(m.answers[0].ttl, 60u);
  m = ask(z, "www.example.com", wire::kTypeA, 1);
  EXPECT_EQ(a_text(m.answers[0]), "127.0.0.12");  // turned by one
  EXPECT_EQ(a_text(m.answers[1]), "127.0.0.11");
  for (int i = 0; i < 3; ++i) z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now());
  for (unsigned rot = 0; rot < 4; ++rot) {
    m = ask(z, "www.example.com", wire::kTypeA, rot);
    ASSERT_EQ(m.answers.size(), 1u);  // a down target is never answered
    EXPECT_EQ(a_text(m.answers[0]), "127.0.0.12");
  }
  m = ask(z, "www.example.com", wire::kTypeAAAA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type(), wire::kTypeAAAA);
}

TEST(DnsResponder, AnswersSoaAndNsOfItsNames) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  wire::Message m = ask(z, "www.example.com", wire::kTypeSOA);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(std::get<wire::Soa>(m.answers[0].data).mname.text(), "ns.www.example.com");
  m = ask(z, "www.example.com", wire::kTypeNS);
  ASSERT_EQ(m.answers.size(), 1u);
  m = ask(z, "www.example.com", wire::kTypeANY);
  EXPECT_EQ(m.answers.size(), 3u);  // A and AAAA
}

TEST(DnsResponder, OtherTypesGetNodataWithTheSoa) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  const wire::Message m = ask(z, "www.example.com", 16 /* TXT */);
  EXPECT_EQ(m.header.rcode, 0);
  EXPECT_TRUE(m.answers.empty());
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_EQ(m.authority[0].type(), wire::kTypeSOA);
}

TEST(DnsResponder, NamesBelowOursDoNotExist) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  const wire::Message m = ask(z, "x.www.example.com", wire::kTypeA);
  EXPECT_EQ(m.header.rcode, 3);
  EXPECT_TRUE(m.header.aa);
  EXPECT_EQ(m.authority.size(), 1u);  // the SOA, for negative caching
}

TEST(DnsResponder, ANameBetweenTwoOfOursExistsWithoutRecords) {
  core::ManualClock clock;
  DnsConfig c = two_lbs();
  DomainConfig deep;
  deep.name = "a.b.www.example.com";
  deep.targets = {*parse_target("10.0.0.1")};
  c.domains.push_back(deep);
  Zone z(c, clock.now(), 1);
  wire::Message m = ask(z, "b.www.example.com", wire::kTypeA);
  EXPECT_EQ(m.header.rcode, 0);  // NODATA (RFC 8020): NXDOMAIN would deny a.b.www too
  EXPECT_TRUE(m.answers.empty());
  EXPECT_EQ(ask(z, "c.www.example.com", wire::kTypeA).header.rcode, 3);
  EXPECT_EQ(ask(z, "a.b.www.example.com", wire::kTypeA).answers.size(), 1u);
}

TEST(DnsResponder, RefusesNamesClassesAndTransfersNotOurs) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  wire::Message m = ask(z, "example.com", wire::kTypeA);
  EXPECT_EQ(m.header.rcode, 5);
  EXPECT_FALSE(m.header.aa);
  EXPECT_EQ(ask(z, "www.example.com", wire::kTypeA, 0, wire::kClassCH).header.rcode, 5);
  EXPECT_EQ(ask(z, "www.example.com", wire::kTypeAXFR).header.rcode, 5);
}

std::vector<std::uint8_t> with_opt(std::vector<std::uint8_t> q, std::uint16_t payload, std::uint8_t version = 0) {
  q[11] = 1;  // ARCOUNT
  const std::uint8_t opt[] = {0, 0, 41, static_cast<std::uint8_t>(payload >> 8), static_cast<std::uint8_t>(payload),
                              0, version, 0, 0, 0, 0};
  q.insert(q.end(), std::begin(opt), std::end(opt));
  return q;
}

TEST(DnsResponder, EdnsRaisesTheUdpLimitUpToWhatWeAdvertise) {
  core::ManualClock clock;
  Zone z(big_name(), clock.now(), 1);
  std::vector<std::uint8_t> out;
  // 64 A records are about 1 KiB: they fit a 1232-byte EDNS reply.
  Response r = respond(*z.snapshot(), with_opt(query("big.example.com", wire::kTypeA), 1232), Transport::kUdp, 0, out);
  EXPECT_FALSE(r.truncated);
  auto m = wire::parse_message(out);
  EXPECT_EQ(m->answers.size(), 64u);
  ASSERT_TRUE(m->edns);
  EXPECT_EQ(m->edns->udp_payload_size, wire::kOurUdpPayload);
  // A client offering 4096 still gets at most what we advertise.
  r = respond(*z.snapshot(), with_opt(query("big.example.com", wire::kTypeA), 4096), Transport::kUdp, 0, out);
  EXPECT_LE(out.size(), wire::kOurUdpPayload);
  // EDNS version 1 is not known: BADVERS.
  r = respond(*z.snapshot(), with_opt(query("big.example.com", wire::kTypeA), 1232, 1), Transport::kUdp, 0, out);
  EXPECT_EQ(r.rcode, wire::Rcode::kBadVers);
}

TEST(DnsResponder, MalformedGetsFormerrAndResponsesAreDropped) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> q = query("www.example.com", wire::kTypeA);
  q.resize(q.size() - 3);  // truncated question
  Response r = respond(*z.snapshot(), q, Transport::kUdp, 0, out);
  EXPECT_TRUE(r.send);
  EXPECT_EQ(r.rcode, wire::Rcode::kFormErr);
  q = query("www.example.com", wire::kTypeA);
  q[2] |= 0x80;  // QR: a response, never answered
  EXPECT_FALSE(respond(*z.snapshot(), q, Transport::kUdp, 0, out).send);
  EXPECT_FALSE(respond(*z.snapshot(), std::vector<std::uint8_t>(5, 0), Transport::kUdp, 0, out).send);
}

TEST(DnsResponder, UnknownOpcodeGetsNotImpWithRdClear) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> q = query("www.example.com", wire::kTypeA);  // RD set
  q[2] |= 5 << 3;  // opcode UPDATE
  const Response r = respond(*z.snapshot(), q, Transport::kUdp, 0, out);
  EXPECT_TRUE(r.send);
  EXPECT_EQ(r.rcode, wire::Rcode::kNotImp);
  const auto m = wire::parse_message(out);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.rcode, 4);
  EXPECT_EQ(m->header.opcode, 5);
  EXPECT_FALSE(m->header.rd);  // defined for QUERY only
  // A QUERY keeps its RD echoed.
  EXPECT_TRUE(ask(z, "www.example.com", wire::kTypeA).header.rd);
}

TEST(DnsResponder, ManyTargetsOverUdpSetTcAndFitOverTcp) {
  core::ManualClock clock;
  Zone z(big_name(), clock.now(), 1);
  std::vector<std::uint8_t> out;
  const Response udp = respond(*z.snapshot(), query("big.example.com", wire::kTypeA), Transport::kUdp, 0, out);
  EXPECT_TRUE(udp.truncated);
  EXPECT_LE(out.size(), 512u);
  const Response tcp = respond(*z.snapshot(), query("big.example.com", wire::kTypeA), Transport::kTcp, 0, out);
  EXPECT_FALSE(tcp.truncated);
  EXPECT_EQ(wire::parse_message(out)->answers.size(), 64u);
}

// ---------------------------------------------------------------- HTTPDNS

TEST(Httpdns, AnswersTheCloudShape) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  const core::Result<HttpdnsQuery> p = parse_httpdns_query("host=www.example.com", 32);
  ASSERT_TRUE(p.ok());
  HttpdnsReply r = httpdns_reply(*z.snapshot(), *p);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"www.example.com":{"ips":["127.0.0.11","127.0.0.12"],"ipsv6":["::1"],"ttl":60}})");
}

TEST(Httpdns, SeveralHostsAndUnknownOnes) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  const core::Result<HttpdnsQuery> p = parse_httpdns_query("host=WWW.example.com.%2Cnope.org,www.example.com&ip=1.2.3.4", 32);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_THAT(p->hosts, ElementsAre("www.example.com", "nope.org"));
  HttpdnsReply r = httpdns_reply(*z.snapshot(), *p);
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("nope.org":{"error":"unknown host"})"));
  r = httpdns_reply(*z.snapshot(), *parse_httpdns_query("host=nope.org", 32));
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("unknown host nope.org"));
}

TEST(Httpdns, BadQueriesSayWhatIsWrong) {
  EXPECT_THAT(parse_httpdns_query("", 32).error().message, HasSubstr("missing host"));
  EXPECT_THAT(parse_httpdns_query("host=", 32).error().message, HasSubstr("missing host"));
  EXPECT_THAT(parse_httpdns_query("host=a&host=b", 32).error().message, HasSubstr("twice"));
  EXPECT_THAT(parse_httpdns_query("host=%zz", 32).error().message, HasSubstr("percent"));
  EXPECT_THAT(parse_httpdns_query("host=a..b", 32).error().message, HasSubstr("not a host name"));
  EXPECT_THAT(parse_httpdns_query("host=a,,b", 32).error().message, HasSubstr("not a host name"));
  EXPECT_THAT(parse_httpdns_query("host=a%00b", 32).error().message, HasSubstr("not a host name"));
  EXPECT_THAT(parse_httpdns_query("host=" + std::string(64, 'a') + ".com", 32).error().message, HasSubstr("not a host name"));
  EXPECT_THAT(parse_httpdns_query("host=a,b,c", 2).error().message, HasSubstr("at most 2"));
  EXPECT_THAT(parse_httpdns_query("host=a&t=soon", 32).error().message, HasSubstr("unix seconds"));
}

TEST(Httpdns, SignatureIsCheckedAndExpires) {
  const std::string secret = "s3cret";
  const long long now = 1'800'000'000;
  const std::string t = std::to_string(now + 60);
  const std::string s = net::hmac_sha256_hex(secret, "www.example.com" + t);
  core::Result<HttpdnsQuery> p = parse_httpdns_query("host=www.example.com&t=" + t + "&s=" + s, 32);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(check_signature(secret, *p, now), "");
  EXPECT_EQ(check_signature(secret, *p, now + 61), "the signature expired (t is in the past)");
  EXPECT_EQ(check_signature("other", *p, now), "bad signature");
  p->host_param = "evil.example.com";  // the signature covers the host
  EXPECT_EQ(check_signature(secret, *p, now), "bad signature");
  EXPECT_THAT(check_signature(secret, *parse_httpdns_query("host=a", 32), now), HasSubstr("signed requests"));
}

TEST(Httpdns, SignatureCoversTAsSentAndIsShortLived) {
  const std::string secret = "s3cret";
  const long long now = 1'800'000'000;
  // Leading zeros are signed as sent; upper-case hex is accepted.
  const std::string t = "0" + std::to_string(now + 60);
  std::string s = net::hmac_sha256_hex(secret, "lb1" + t);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(check_signature(secret, *parse_httpdns_query("host=lb1&t=" + t + "&s=" + s, 32), now), "");
  // A far-future t is refused, which also stops re-splitting host + t
  // ("lb1" + "T" as "lb" + "1T") into a signature for another host.
  const std::string far = std::to_string(now + 2 * kMaxSignatureLifetime);
  const std::string s_far = net::hmac_sha256_hex(secret, "lb" + far);
  EXPECT_THAT(check_signature(secret, *parse_httpdns_query("host=lb&t=" + far + "&s=" + s_far, 32), now),
              HasSubstr("too far in the future"));
}

TEST(SnapshotCell, ReaderSeesEveryPublishedVersion) {
  core::ManualClock clock;
  Zone z(two_lbs(), clock.now(), 1);
  SnapshotCell cell;
  SnapshotCell::Reader reader(cell);
  EXPECT_TRUE(reader.get().names.empty());  // nothing published yet: an empty zone
  cell.publish(z.snapshot());
  EXPECT_EQ(reader.get().names.size(), 1u);
  for (int i = 0; i < 3; ++i) z.observe("www.example.com", "127.0.0.11:8080", refused(), clock.now());
  cell.publish(z.snapshot());
  EXPECT_EQ(reader.get().find_text("www.example.com")->ips.size(), 1u);
}

TEST(Hmac, MatchesRfc4231TestCase2) {
  EXPECT_EQ(net::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace failover::dns
