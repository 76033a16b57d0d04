#pragma once
// DNS messages on the wire (RFC 1035 4.1, EDNS0 of RFC 6891) for an
// authoritative server: parse the queries it receives, build its replies,
// frame them for TCP. Pure: no I/O, no Asio, no exceptions for bad input, so
// the libFuzzer build links it alone. Every read is checked against the end of
// the buffer and every loop is bounded by the packet size or a constant, so
// any bytes give an answer in time linear in their length. Every function may
// run on any thread.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace failover::net::dns {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxLabel = 63;        // bytes of one label
inline constexpr std::size_t kMaxNameWire = 255;    // a whole name, length bytes and root included
inline constexpr std::size_t kMaxPointerHops = 126;  // as miekg/dns: more than a 255-byte name can need
inline constexpr std::size_t kMaxUdpWithoutEdns = 512;
inline constexpr std::size_t kMaxUdpWithEdns = 4096;
inline constexpr std::size_t kMaxTcp = 65535;
// What our replies advertise in their OPT record (DNS flag day 2020: no IP
// fragmentation on any common path).
inline constexpr std::uint16_t kOurUdpPayload = 1232;

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeNS = 2;
inline constexpr std::uint16_t kTypeCNAME = 5;
inline constexpr std::uint16_t kTypeSOA = 6;
inline constexpr std::uint16_t kTypeAAAA = 28;
inline constexpr std::uint16_t kTypeOPT = 41;
inline constexpr std::uint16_t kTypeAXFR = 252;
inline constexpr std::uint16_t kTypeANY = 255;
inline constexpr std::uint16_t kClassIN = 1;
inline constexpr std::uint16_t kClassCH = 3;
inline constexpr std::uint16_t kClassANY = 255;
inline constexpr std::uint8_t kOpcodeQuery = 0;

// Response codes. kBadVers (16) needs the OPT record's extended rcode bits,
// so it can only be sent to a query that had one.
enum class Rcode : std::uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,
};

// ---------------------------------------------------------------- names

// A domain name in uncompressed wire form (length-prefixed labels, then the
// root's zero byte), case as sent. Held inline: copying one never allocates.
// Labels may hold any byte, '.' included; text() escapes what is ambiguous.
class Name {
 public:
  Name() : size_(1) { wire_[0] = 0; }  // the root

  // "www.example.com", with or without the final dot; "." or "" is the root.
  // "\." and "\\" escape a character, "\DDD" gives a byte in decimal (as in
  // zone files). Nothing when a label is empty or over 63 bytes, or the name
  // over 255 bytes on the wire.
  static std::optional<Name> from_text(std::string_view text);
  // An uncompressed wire name that fills `wire` exactly; nothing otherwise.
  static std::optional<Name> from_wire(std::span<const std::uint8_t> wire);

  std::span<const std::uint8_t> wire() const { return {wire_.data(), size_}; }
  bool is_root() const { return size_ == 1; }
  std::size_t label_count() const;
  // Dotted, without the final dot, case as sent ("www.Example.com"); "." for
  // the root. '.', '\' and bytes outside '!'..'~' are escaped so that
  // from_text(text()) gives the same name back.
  std::string text() const;
  // The same name with ASCII letters in lower case (RFC 4343: only those
  // compare equal ignoring case). lowered().text() is a good map key.
  Name lowered() const;

  // Byte for byte, case included. Use iequals() to compare names as DNS does.
  friend bool operator==(const Name& a, const Name& b) {
    return std::equal(a.wire_.begin(), a.wire_.begin() + a.size_, b.wire_.begin(),
                      b.wire_.begin() + b.size_);
  }

 private:
  std::array<std::uint8_t, kMaxNameWire> wire_{};
  std::uint8_t size_;
};

// Equal ignoring the case of ASCII letters.
bool iequals(const Name& a, const Name& b);
// `name` is `zone` or below it ("a.b.example.com" is under "example.com",
// "badexample.com" is not), ignoring case. Every name is under the root.
bool is_under(const Name& name, const Name& zone);

// ---------------------------------------------------------------- messages

struct Header {
  std::uint16_t id = 0;
  bool qr = false;  // a response
  std::uint8_t opcode = 0;
  bool aa = false, tc = false, rd = false, ra = false;
  std::uint8_t rcode = 0;  // the header's 4 bits; see Edns::extended_rcode
  std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

struct Question {
  Name name;  // case as sent; the reply echoes it so
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
};

// The OPT pseudo-record (RFC 6891 6.1). Its options (cookies, padding...)
// are checked for framing and otherwise ignored.
struct Edns {
  std::uint16_t udp_payload_size = 0;  // as sent; below 512 counts as 512
  std::uint8_t extended_rcode = 0;     // the upper 8 bits of a 12-bit rcode
  std::uint8_t version = 0;
  bool dnssec_ok = false;  // DO
};

// Rdata of the types we serve, and any other as bytes.
struct A {
  std::array<std::uint8_t, 4> address{};
};
struct Aaaa {
  std::array<std::uint8_t, 16> address{};
};
struct Ns {
  Name host;
};
struct Soa {
  Name mname, rname;
  std::uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
};
struct OtherRdata {
  std::uint16_t type = 0;
  std::vector<std::uint8_t> bytes;  // uncompressed, written as they are
};
using Rdata = std::variant<A, Aaaa, Ns, Soa, OtherRdata>;

struct Record {
  Name owner;
  std::uint16_t rclass = kClassIN;
  std::uint32_t ttl = 0;  // seconds
  Rdata data;

  std::uint16_t type() const;
};

// ---------------------------------------------------------------- queries

enum class ParseStatus {
  kOk,       // answer it
  kFormErr,  // answer FORMERR: the header was readable, the rest was not
  kNotImp,   // answer NOTIMP: an opcode other than QUERY
  kBadVers,  // answer BADVERS: EDNS version above 0 (RFC 6891 6.1.3)
  kDrop,     // send nothing: shorter than a header, or a response (QR=1),
             // which must never be answered (reflection loops)
};

struct Query {
  Header header;            // everything but kDrop
  bool has_question = false;  // kOk and kBadVers: question is the one question
  Question question;
  std::optional<Edns> edns;  // the query had an OPT record (kOk, kBadVers; the
                             // others when it could be read)
};

struct ParseResult {
  ParseStatus status = ParseStatus::kDrop;
  Query query;
  // Why it was not kOk, a short English phrase for logs and metrics
  // ("compression loop"), never null; "" for kOk.
  const char* reason = "";
};

// Parses what a server received over UDP, or one TCP message without its
// length prefix. Strict where a misreading could matter: exactly one
// question, OPT at most once, only in the additional section and owned by
// the root; compression pointers must point before the name that uses them
// and past the header. Bytes after the last record are ignored, as most
// servers do.
ParseResult parse_query(std::span<const std::uint8_t> packet);

// The rcode that answers a status other than kOk and kDrop.
Rcode rcode_for(ParseStatus status);

// ---------------------------------------------------------------- replies

// What the server decided. The spans are read during build_reply only, so
// they may point into a per-name cache.
struct Answer {
  Rcode rcode = Rcode::kNoError;
  bool authoritative = true;  // AA: set for our own names, clear for errors
  std::span<const Record> answers{};
  std::span<const Record> authority{};  // the zone's SOA for NXDOMAIN and NODATA (RFC 2308)
  std::span<const Record> additional{};  // optional (glue); the OPT is added by build_reply
};

struct BuildResult {
  bool truncated = false;  // TC set: an answer or authority record was left out
  std::size_t answers = 0, authority = 0, additional = 0;  // records written
};

// Replaces `out` with the reply to `query` (a kOk result, or any other but
// kDrop with an error rcode from rcode_for()): id and opcode echoed, RD
// echoed for opcode QUERY only (clear for any other), QR set, RA clear, AA
// as asked; the question echoed as sent when the query had one; an OPT
// record advertising `our_payload` when the query had one (with DO echoed). Owner and rdata names that end in the question's name are
// compressed to it.
//
// The reply never exceeds max(max_size, 512) bytes (and never 65535). When
// the records do not all fit, whole records are left out from the end:
// answers and authority records make TC set, additional records do not (RFC
// 2181 9); after the first record left out, no later one is written.
// Header, question and OPT always fit in 512.
BuildResult build_reply(const Query& query, const Answer& answer, std::size_t max_size,
                        std::vector<std::uint8_t>& out, std::uint16_t our_payload = kOurUdpPayload);

// The size a UDP reply may have: 512 without EDNS, else the client's payload
// size (512 at least) capped at server_max (RFC 6891 6.2.5). Over TCP use
// kMaxTcp.
std::size_t udp_reply_limit(const std::optional<Edns>& edns,
                            std::size_t server_max = kMaxUdpWithEdns);

// ---------------------------------------------------------------- any message

// A whole message, every section: for tests and tools reading replies. Known
// types' rdata is decoded (names decompressed); any other is kept as bytes.
struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers, authority, additional;  // additional without the OPT
  std::optional<Edns> edns;
};

// Nothing when anything is malformed (same rules as parse_query, any counts,
// QR either way; rdata of A, AAAA, NS and SOA must have exactly their size).
std::optional<Message> parse_message(std::span<const std::uint8_t> packet);

// ---------------------------------------------------------------- TCP

// RFC 1035 4.2.2 / RFC 7766: each message is preceded by its length in two
// bytes, network order.
std::array<std::uint8_t, 2> tcp_length_prefix(std::size_t message_size);  // size <= 65535

struct TcpMessage {
  std::span<const std::uint8_t> message;  // into the buffer given
  std::size_t consumed = 0;               // prefix and message
};
// The first whole message in the bytes read so far from a TCP stream;
// nothing until its prefix and all its bytes have arrived. A 0-length
// message is returned as such (it parses as kDrop).
std::optional<TcpMessage> take_tcp_message(std::span<const std::uint8_t> buffered);

}  // namespace failover::net::dns
