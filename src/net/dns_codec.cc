#include "net/dns_codec.h"

#include <algorithm>

namespace failover::net::dns {
namespace {

// Why a message was refused, a static phrase; nullptr when it was not.
using Fault = const char*;

constexpr std::uint8_t kPointerBits = 0xC0;
constexpr std::size_t kOptSize = 11;  // root owner, type, class, TTL, rdlength 0

std::uint8_t lower(std::uint8_t c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

// Both spans start at a label boundary, so equal bytes mean equal labels:
// length bytes (0..63) are never letters.
bool iequal_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](std::uint8_t x, std::uint8_t y) { return lower(x) == lower(y); });
}

// ---------------------------------------------------------------- reading
// `pos` never passes msg.size(), so msg.size() - pos cannot wrap.

bool get16(std::span<const std::uint8_t> msg, std::size_t& pos, std::uint16_t& v) {
  if (msg.size() - pos < 2) return false;
  v = static_cast<std::uint16_t>(msg[pos] << 8 | msg[pos + 1]);
  pos += 2;
  return true;
}

bool get32(std::span<const std::uint8_t> msg, std::size_t& pos, std::uint32_t& v) {
  std::uint16_t hi, lo;
  if (!get16(msg, pos, hi) || !get16(msg, pos, lo)) return false;
  v = std::uint32_t{hi} << 16 | lo;
  return true;
}

Header read_header(std::span<const std::uint8_t> msg) {  // msg.size() >= kHeaderSize
  std::size_t pos = 0;
  Header h;
  std::uint16_t flags = 0;
  get16(msg, pos, h.id);
  get16(msg, pos, flags);
  h.qr = flags & 0x8000;
  h.opcode = (flags >> 11) & 0xF;
  h.aa = flags & 0x0400;
  h.tc = flags & 0x0200;
  h.rd = flags & 0x0100;
  h.ra = flags & 0x0080;
  h.rcode = flags & 0xF;
  get16(msg, pos, h.qdcount);
  get16(msg, pos, h.ancount);
  get16(msg, pos, h.nscount);
  get16(msg, pos, h.arcount);
  return h;
}

// Reads the name at `pos`, following compression pointers; `pos` ends after
// the name's bytes in place (after its first pointer). A pointer must point
// before the labels that lead to it, so every jump goes strictly backwards
// and no loop (to itself, to each other, to a name that leads back) can be
// built; the hop bound keeps a long legal chain from costing more than a
// name can need.
Fault read_name(std::span<const std::uint8_t> msg, std::size_t& pos, Name& out) {
  std::array<std::uint8_t, kMaxNameWire> wire;
  std::size_t size = 0;
  std::size_t p = pos;
  std::size_t segment = p;  // where the labels being read now start
  std::size_t hops = 0;
  bool jumped = false;
  for (;;) {
    if (p >= msg.size()) return "truncated name";
    const std::uint8_t len = msg[p];
    if ((len & kPointerBits) == kPointerBits) {
      if (msg.size() - p < 2) return "truncated name";
      const std::size_t target = (len & 0x3F) << 8 | msg[p + 1];
      if (!jumped) pos = p + 2;
      jumped = true;
      if (target >= segment) return "compression pointer not backwards (loop)";
      if (target < kHeaderSize) return "compression pointer into the header";
      if (++hops > kMaxPointerHops) return "too many compression pointers";
      p = segment = target;
      continue;
    }
    // 0x40 and 0x80 are the extended label types (RFC 6891 5), and a first
    // byte of 64..191 is how a 64-byte label would look.
    if (len & kPointerBits) return "label longer than 63 bytes";
    if (len == 0) {
      wire[size++] = 0;
      if (!jumped) pos = p + 1;
      break;
    }
    if (size + 1 + len + 1 > kMaxNameWire) return "name longer than 255 bytes";
    if (msg.size() - p - 1 < len) return "truncated name";
    std::copy_n(msg.begin() + p, 1 + len, wire.begin() + size);
    size += 1 + len;
    p += 1 + len;
  }
  out = *Name::from_wire({wire.data(), size});
  return nullptr;
}

struct RecordHead {
  Name owner;
  std::uint16_t type = 0, rclass = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata = 0, rdata_end = 0;  // offsets in the message
};

Fault read_record_head(std::span<const std::uint8_t> msg, std::size_t& pos, RecordHead& r) {
  if (Fault f = read_name(msg, pos, r.owner)) return f;
  std::uint16_t rdlength = 0;
  if (!get16(msg, pos, r.type) || !get16(msg, pos, r.rclass) || !get32(msg, pos, r.ttl) ||
      !get16(msg, pos, rdlength) || msg.size() - pos < rdlength)
    return "truncated record";
  r.rdata = pos;
  r.rdata_end = pos + rdlength;
  pos = r.rdata_end;
  return nullptr;
}

Fault read_opt(std::span<const std::uint8_t> msg, const RecordHead& r, Edns& edns) {
  if (!r.owner.is_root()) return "OPT record not owned by the root";
  // Options are code, length, data; only their framing is checked.
  for (std::size_t p = r.rdata; p < r.rdata_end;) {
    std::uint16_t code = 0, len = 0;
    if (r.rdata_end - p < 4) return "truncated EDNS option";
    get16(msg, p, code);
    get16(msg, p, len);
    if (r.rdata_end - p < len) return "truncated EDNS option";
    p += len;
  }
  edns.udp_payload_size = r.rclass;
  edns.extended_rcode = static_cast<std::uint8_t>(r.ttl >> 24);
  edns.version = static_cast<std::uint8_t>(r.ttl >> 16);
  edns.dnssec_ok = r.ttl & 0x8000;
  return nullptr;
}

// Decodes the rdata of the types build_reply writes; names in NS and SOA
// rdata may be compressed (RFC 3597 4) and must end inside it.
Fault read_rdata(std::span<const std::uint8_t> msg, const RecordHead& h, Record& r) {
  r.owner = h.owner;
  r.rclass = h.rclass;
  r.ttl = h.ttl;
  const std::size_t size = h.rdata_end - h.rdata;
  const auto bytes = msg.subspan(h.rdata, size);
  std::size_t p = h.rdata;
  if (h.type == kTypeA && h.rclass == kClassIN) {
    if (size != 4) return "A rdata not 4 bytes";
    A a;
    std::copy(bytes.begin(), bytes.end(), a.address.begin());
    r.data = a;
    p = h.rdata_end;
  } else if (h.type == kTypeAAAA && h.rclass == kClassIN) {
    if (size != 16) return "AAAA rdata not 16 bytes";
    Aaaa a;
    std::copy(bytes.begin(), bytes.end(), a.address.begin());
    r.data = a;
    p = h.rdata_end;
  } else if (h.type == kTypeNS) {
    Ns ns;
    if (Fault f = read_name(msg.first(h.rdata_end), p, ns.host)) return f;
    r.data = ns;
  } else if (h.type == kTypeSOA) {
    Soa soa;
    const auto rdata = msg.first(h.rdata_end);
    if (Fault f = read_name(rdata, p, soa.mname)) return f;
    if (Fault f = read_name(rdata, p, soa.rname)) return f;
    if (!get32(rdata, p, soa.serial) || !get32(rdata, p, soa.refresh) ||
        !get32(rdata, p, soa.retry) || !get32(rdata, p, soa.expire) ||
        !get32(rdata, p, soa.minimum))
      return "truncated SOA rdata";
    r.data = soa;
  } else {
    r.data = OtherRdata{h.type, {bytes.begin(), bytes.end()}};
    p = h.rdata_end;
  }
  return p == h.rdata_end ? nullptr : "rdata longer than its content";
}

// Walks every section after the header: the first question into q.question,
// the OPT into q.edns, and with `full` every question and record into it.
// Each step consumes at least one byte or fails, so the counts cannot make
// it run longer than the packet.
Fault walk(std::span<const std::uint8_t> msg, Query& q, Message* full) {
  const Header& h = q.header;
  std::size_t pos = kHeaderSize;
  for (std::size_t i = 0; i < h.qdcount; ++i) {
    Question other;
    Question& qu = i == 0 ? q.question : other;
    if (Fault f = read_name(msg, pos, qu.name)) return f;
    if (!get16(msg, pos, qu.qtype) || !get16(msg, pos, qu.qclass)) return "truncated question";
    if (full) full->questions.push_back(qu);
  }
  const std::size_t records = std::size_t{h.ancount} + h.nscount + h.arcount;
  for (std::size_t i = 0; i < records; ++i) {
    RecordHead r;
    if (Fault f = read_record_head(msg, pos, r)) return f;
    const bool additional = i >= std::size_t{h.ancount} + h.nscount;
    if (r.type == kTypeOPT) {
      if (!additional) return "OPT record outside the additional section";
      if (q.edns) return "more than one OPT record";
      Edns edns;
      if (Fault f = read_opt(msg, r, edns)) return f;
      q.edns = edns;
      continue;
    }
    if (!full) continue;
    auto& section = i < h.ancount ? full->answers : additional ? full->additional : full->authority;
    if (Fault f = read_rdata(msg, r, section.emplace_back())) return f;
  }
  return nullptr;
}

// ---------------------------------------------------------------- writing

void put16(std::vector<std::uint8_t>& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, v >> 16);
  put16(out, v & 0xFFFF);
}

void set16(std::vector<std::uint8_t>& out, std::size_t at, std::size_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v);
}

// Writes names, replacing a tail that equals (ignoring case) a tail of the
// question's name with a pointer to it. Only the question is a target, so
// dropping a record later leaves no pointer to bytes that are gone.
class Compressor {
 public:
  explicit Compressor(const Name* qname) : qname_(qname) {
    if (!qname_) return;
    const auto q = qname_->wire();
    for (std::size_t p = 0; q[p] != 0; p += 1 + q[p]) starts_[count_++] = static_cast<std::uint8_t>(p);
  }

  void write(const Name& name, std::vector<std::uint8_t>& out) const {
    const auto w = name.wire();
    std::size_t j = 0;  // question label starts: their tails shrink as j grows
    for (std::size_t i = 0; w[i] != 0 && qname_; i += 1 + w[i]) {
      const std::size_t tail = w.size() - i;
      const auto q = qname_->wire();
      while (j < count_ && q.size() - starts_[j] > tail) ++j;
      if (j == count_) break;
      if (q.size() - starts_[j] == tail && iequal_bytes(w.subspan(i), q.subspan(starts_[j]))) {
        out.insert(out.end(), w.begin(), w.begin() + i);
        put16(out, 0xC000 | (kHeaderSize + starts_[j]));
        return;
      }
    }
    out.insert(out.end(), w.begin(), w.end());
  }

 private:
  const Name* qname_;
  std::array<std::uint8_t, kMaxNameWire / 2> starts_{};  // every label of a 255-byte name
  std::size_t count_ = 0;
};

void write_record(const Record& r, const Compressor& names, std::vector<std::uint8_t>& out) {
  names.write(r.owner, out);
  put16(out, r.type());
  put16(out, r.rclass);
  put32(out, r.ttl);
  const std::size_t length_at = out.size();
  put16(out, 0);
  if (const auto* a = std::get_if<A>(&r.data)) {
    out.insert(out.end(), a->address.begin(), a->address.end());
  } else if (const auto* aaaa = std::get_if<Aaaa>(&r.data)) {
    out.insert(out.end(), aaaa->address.begin(), aaaa->address.end());
  } else if (const auto* ns = std::get_if<Ns>(&r.data)) {
    names.write(ns->host, out);
  } else if (const auto* soa = std::get_if<Soa>(&r.data)) {
    names.write(soa->mname, out);
    names.write(soa->rname, out);
    for (std::uint32_t v : {soa->serial, soa->refresh, soa->retry, soa->expire, soa->minimum})
      put32(out, v);
  } else {
    const auto& other = std::get<OtherRdata>(r.data);
    out.insert(out.end(), other.bytes.begin(), other.bytes.end());
  }
  // Larger rdata makes the record pass every limit, so the caller drops it.
  set16(out, length_at, std::min<std::size_t>(out.size() - length_at - 2, 0xFFFF));
}

}  // namespace

// ---------------------------------------------------------------- names

std::optional<Name> Name::from_text(std::string_view text) {
  Name n;
  if (text.empty() || text == ".") return n;
  std::size_t size = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length_at = size++;
    std::size_t len = 0;
    while (i < text.size() && text[i] != '.') {
      std::uint8_t c = static_cast<std::uint8_t>(text[i]);
      if (c == '\\') {
        if (i + 1 == text.size()) return std::nullopt;
        const auto digit = [&](std::size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
        if (digit(i + 1)) {
          if (!digit(i + 2) || !digit(i + 3)) return std::nullopt;
          const int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
          if (v > 255) return std::nullopt;
          c = static_cast<std::uint8_t>(v);
          i += 4;
        } else {
          c = static_cast<std::uint8_t>(text[i + 1]);
          i += 2;
        }
      } else {
        ++i;
      }
      // The root byte must still fit after this one.
      if (++len > kMaxLabel || size + 1 >= kMaxNameWire) return std::nullopt;
      n.wire_[size++] = c;
    }
    if (len == 0) return std::nullopt;  // "a..b", ".a"
    n.wire_[length_at] = static_cast<std::uint8_t>(len);
    if (i < text.size()) ++i;  // the dot; a final one ends the loop
  }
  n.wire_[size++] = 0;
  n.size_ = static_cast<std::uint8_t>(size);
  return n;
}

std::optional<Name> Name::from_wire(std::span<const std::uint8_t> wire) {
  if (wire.empty() || wire.size() > kMaxNameWire) return std::nullopt;
  std::size_t p = 0;
  while (wire[p] != 0) {
    if (wire[p] > kMaxLabel || wire.size() - p - 1 <= wire[p]) return std::nullopt;
    p += 1 + wire[p];
  }
  if (p + 1 != wire.size()) return std::nullopt;
  Name n;
  std::copy(wire.begin(), wire.end(), n.wire_.begin());
  n.size_ = static_cast<std::uint8_t>(wire.size());
  return n;
}

std::size_t Name::label_count() const {
  std::size_t count = 0;
  for (std::size_t p = 0; wire_[p] != 0; p += 1 + wire_[p]) ++count;
  return count;
}

std::string Name::text() const {
  if (is_root()) return ".";
  std::string out;
  for (std::size_t p = 0; wire_[p] != 0; p += 1 + wire_[p]) {
    if (p != 0) out += '.';
    for (std::size_t k = p + 1; k <= p + wire_[p]; ++k) {
      const std::uint8_t c = wire_[k];
      if (c == '.' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < '!' || c > '~') {
        out += '\\';
        out += static_cast<char>('0' + c / 100);
        out += static_cast<char>('0' + c / 10 % 10);
        out += static_cast<char>('0' + c % 10);
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out;
}

Name Name::lowered() const {
  Name n = *this;
  for (std::size_t i = 0; i < size_; ++i) n.wire_[i] = lower(wire_[i]);
  return n;
}

bool iequals(const Name& a, const Name& b) { return iequal_bytes(a.wire(), b.wire()); }

bool is_under(const Name& name, const Name& zone) {
  const auto w = name.wire();
  const auto z = zone.wire();
  for (std::size_t p = 0;; p += 1 + w[p]) {
    if (w.size() - p == z.size()) return iequal_bytes(w.subspan(p), z);
    if (w.size() - p < z.size() || w[p] == 0) return false;
  }
}

std::uint16_t Record::type() const {
  switch (data.index()) {
    case 0: return kTypeA;
    case 1: return kTypeAAAA;
    case 2: return kTypeNS;
    case 3: return kTypeSOA;
    default: return std::get<OtherRdata>(data).type;
  }
}

// ---------------------------------------------------------------- queries

ParseResult parse_query(std::span<const std::uint8_t> packet) {
  ParseResult r;
  if (packet.size() < kHeaderSize) {
    r.reason = "shorter than a header";
    return r;
  }
  Query& q = r.query;
  q.header = read_header(packet);
  if (q.header.qr) {
    r.reason = "a response";
    return r;
  }
  // Walked even for another opcode, so that its NOTIMP can carry an OPT.
  const Fault fault = walk(packet, q, nullptr);
  if (q.header.opcode != kOpcodeQuery) {
    r.status = ParseStatus::kNotImp;
    r.reason = "opcode not QUERY";
  } else if (fault) {
    r.status = ParseStatus::kFormErr;
    r.reason = fault;
  } else if (q.header.qdcount != 1) {
    r.status = ParseStatus::kFormErr;
    r.reason = "not exactly one question";
  } else if (q.edns && q.edns->version != 0) {
    r.status = ParseStatus::kBadVers;
    r.reason = "EDNS version above 0";
    q.has_question = true;
  } else {
    r.status = ParseStatus::kOk;
    r.reason = "";
    q.has_question = true;
  }
  if (r.status != ParseStatus::kOk && !q.has_question) q.question = Question{};
  return r;
}

Rcode rcode_for(ParseStatus status) {
  switch (status) {
    case ParseStatus::kOk: return Rcode::kNoError;
    case ParseStatus::kFormErr: return Rcode::kFormErr;
    case ParseStatus::kNotImp: return Rcode::kNotImp;
    case ParseStatus::kBadVers: return Rcode::kBadVers;
    case ParseStatus::kDrop: break;
  }
  return Rcode::kServFail;
}

// ---------------------------------------------------------------- replies

BuildResult build_reply(const Query& query, const Answer& answer, std::size_t max_size,
                        std::vector<std::uint8_t>& out, std::uint16_t our_payload) {
  const std::size_t limit = std::clamp(max_size, kMaxUdpWithoutEdns, kMaxTcp);
  // The OPT goes last but its room is kept from the start: a client that
  // sent one must get one back (RFC 6891 7), truncated or not.
  const std::size_t budget = limit - (query.edns ? kOptSize : 0);
  BuildResult result;
  out.clear();
  out.resize(kHeaderSize);
  if (query.has_question) {
    const auto name = query.question.name.wire();
    out.insert(out.end(), name.begin(), name.end());
    put16(out, query.question.qtype);
    put16(out, query.question.qclass);
  }
  const Compressor names(query.has_question ? &query.question.name : nullptr);

  // Writes records until one does not fit; false when one did not.
  const auto fill = [&](std::span<const Record> records, std::size_t& written) {
    for (const Record& r : records) {
      const std::size_t mark = out.size();
      write_record(r, names, out);
      if (out.size() > budget) {
        out.resize(mark);
        return false;
      }
      ++written;
    }
    return true;
  };
  result.truncated = !fill(answer.answers, result.answers) || !fill(answer.authority, result.authority);
  if (!result.truncated) fill(answer.additional, result.additional);

  const auto rcode = static_cast<std::uint16_t>(answer.rcode);
  if (query.edns) {
    out.push_back(0);  // the root
    put16(out, kTypeOPT);
    put16(out, our_payload);
    out.push_back(static_cast<std::uint8_t>(rcode >> 4));
    out.push_back(0);  // version
    put16(out, query.edns->dnssec_ok ? 0x8000 : 0);
    put16(out, 0);
  }

  const Header& h = query.header;
  std::uint16_t flags = 0x8000 | (h.opcode & 0xF) << 11 | (rcode & 0xF);
  if (answer.authoritative) flags |= 0x0400;
  if (result.truncated) flags |= 0x0200;
  // RD means "recursion desired" for QUERY only (RFC 1035 4.1.1); under
  // another opcode (UPDATE's Z bits, say) it is not ours to echo.
  if (h.rd && h.opcode == kOpcodeQuery) flags |= 0x0100;
  set16(out, 0, h.id);
  set16(out, 2, flags);
  set16(out, 4, query.has_question ? 1 : 0);
  set16(out, 6, result.answers);
  set16(out, 8, result.authority);
  set16(out, 10, result.additional + (query.edns ? 1 : 0));
  return result;
}

std::size_t udp_reply_limit(const std::optional<Edns>& edns, std::size_t server_max) {
  if (!edns) return kMaxUdpWithoutEdns;
  const std::size_t asked = std::max<std::size_t>(edns->udp_payload_size, kMaxUdpWithoutEdns);
  return std::min(asked, std::max(server_max, kMaxUdpWithoutEdns));
}

// ---------------------------------------------------------------- any message

std::optional<Message> parse_message(std::span<const std::uint8_t> packet) {
  if (packet.size() < kHeaderSize) return std::nullopt;
  Message m;
  Query q;
  q.header = m.header = read_header(packet);
  if (walk(packet, q, &m)) return std::nullopt;
  m.edns = q.edns;
  return m;
}

// ---------------------------------------------------------------- TCP

std::array<std::uint8_t, 2> tcp_length_prefix(std::size_t message_size) {
  return {static_cast<std::uint8_t>(message_size >> 8), static_cast<std::uint8_t>(message_size)};
}

std::optional<TcpMessage> take_tcp_message(std::span<const std::uint8_t> buffered) {
  if (buffered.size() < 2) return std::nullopt;
  const std::size_t size = std::size_t{buffered[0]} << 8 | buffered[1];
  if (buffered.size() - 2 < size) return std::nullopt;
  return TcpMessage{buffered.subspan(2, size), 2 + size};
}

}  // namespace failover::net::dns
