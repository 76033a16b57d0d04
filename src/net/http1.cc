// Head parsing. One pass over the lines, each found with memchr; the head is
// parsed again from its start on every call, which costs little because a
// head nearly always arrives in one read.
#include "net/http1.h"
#include "net/http1_chars.h"

#include <algorithm>
#include <cstring>

namespace failover::net::http1 {

namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
  return true;
}

// Field values and reason phrases: visible characters, obs-text, SP and HTAB.
// A lone CR or a NUL here is read differently by different servers.
bool is_field_byte(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 0x20 || c == '\t') && c != 0x7f;
}

// Values are most of a head's bytes, so they are checked 8 at a time: a word
// with no byte below 0x20 and none equal to 0x7f needs no closer look
// (the usual SWAR tests; they may flag a clean word, never miss a bad one).
bool is_field_text(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101, kHighs = 0x8080808080808080;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    const std::uint64_t del = x ^ (0x7f * kOnes);
    if (((((x - 0x20 * kOnes) & ~x) | ((del - kOnes) & ~del)) & kHighs) == 0) continue;
    for (std::size_t j = i; j < i + 8; ++j)  // a tab, or a byte to refuse
      if (!is_field_byte(s[j])) return false;
  }
  for (; i < s.size(); ++i)
    if (!is_field_byte(s[i])) return false;
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// "HTTP/1.1" -> 1. A higher minor version is read as 1.1, as RFC 9110 2.5
// asks ("HTTP/1.2" -> 1). kBadVersion for another major version, `malformed`
// for anything that is not a version.
Error parse_version(std::string_view v, Error malformed, int& minor) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return malformed;
  if (!is_digit(v[5]) || !is_digit(v[7])) return malformed;
  if (v[5] != '1') return Error::kBadVersion;
  minor = v[7] == '0' ? 0 : 1;
  return Error::kNone;
}

// The lines of a head, each without its CRLF.
class LineReader {
 public:
  explicit LineReader(std::string_view window) : window_(window) {}
  enum class Result { kLine, kIncomplete, kBareLf };
  Result next(std::string_view& line) {
    // memchr must not see a null pointer, even for zero bytes (an empty
    // buffer's data() may be null).
    if (pos_ >= window_.size()) return Result::kIncomplete;
    const char* begin = window_.data() + pos_;
    const void* lf = std::memchr(begin, '\n', window_.size() - pos_);
    if (lf == nullptr) return Result::kIncomplete;
    const std::size_t end = static_cast<const char*>(lf) - window_.data();
    if (end == pos_ || window_[end - 1] != '\r') return Result::kBareLf;
    line = window_.substr(pos_, end - 1 - pos_);
    pos_ = end + 1;
    return Result::kLine;
  }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view window_;
  std::size_t pos_ = 0;
};

Parse fail(Error e, Error& error) {
  error = e;
  return Parse::kError;
}

// What the framing fields said, gathered over the whole head before deciding.
struct Framing {
  bool te_seen = false;
  bool te_last_chunked = false;
  bool te_chunked_not_last = false;
  bool te_bad_coding = false;
  bool te_other_coding = false;  // gzip, identity...: a coding besides chunked
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool conn_upgrade = false;
  bool upgrade_field = false;
};

bool parse_content_length(std::string_view v, std::optional<std::uint64_t>& out) {
  if (v.empty()) return false;
  std::uint64_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) return false;
    const unsigned d = c - '0';
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  // The same length repeated is harmless (RFC 9110 8.6); two lengths are a
  // request that two servers would split differently.
  if (out && *out != n) return false;
  out = n;
  return true;
}

void note_transfer_encoding(std::string_view v, Framing& f) {
  f.te_seen = true;
  for_each_element(v, [&](std::string_view coding) {
    coding = trim(coding.substr(0, coding.find(';')));  // parameters do not matter here
    if (!is_token(coding)) f.te_bad_coding = true;
    if (f.te_last_chunked) f.te_chunked_not_last = true;
    f.te_last_chunked = iequals(coding, "chunked");
    if (!f.te_last_chunked) f.te_other_coding = true;
  });
}

void note_connection(std::string_view v, Framing& f) {
  for_each_element(v, [&](std::string_view token) {
    f.conn_close = f.conn_close || iequals(token, "close");
    f.conn_keep_alive = f.conn_keep_alive || iequals(token, "keep-alive");
    f.conn_upgrade = f.conn_upgrade || iequals(token, "upgrade");
  });
}

// Reads the field lines after the start line, up to and including the blank
// line. `on_field` sees each one first and may refuse it.
template <class OnField>
Parse parse_fields(LineReader& lines, std::size_t buffer_size, const HeadLimits& limits,
                   MessageHead& out, Framing& framing, Error& error, OnField&& on_field) {
  for (;;) {
    std::string_view line;
    switch (lines.next(line)) {
      case LineReader::Result::kLine: break;
      case LineReader::Result::kBareLf: return fail(Error::kBadHeader, error);
      case LineReader::Result::kIncomplete:
        return buffer_size <= limits.max_size ? Parse::kIncomplete
                                              : fail(Error::kHeaderTooLarge, error);
    }
    if (line.empty()) break;
    // A name must start the line: a leading space is obs-fold, which some
    // servers join to the previous field and others do not.
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(Error::kBadHeader, error);
    const std::string_view name = line.substr(0, colon);
    const std::string_view raw = line.substr(colon + 1);
    if (!is_token(name) || !is_field_text(raw)) return fail(Error::kBadHeader, error);
    if (out.headers.size() == limits.max_fields) return fail(Error::kTooManyHeaders, error);
    const Header h{name, trim(raw)};
    out.headers.push_back(h);

    // Only these names change framing; the length switch keeps the common
    // case to one comparison of sizes.
    switch (name.size()) {
      case 7:
        if (iequals(name, "upgrade")) framing.upgrade_field = true;
        break;
      case 10:
        if (iequals(name, "connection")) note_connection(h.value, framing);
        break;
      case 14:
        if (iequals(name, "content-length") && !parse_content_length(h.value, out.content_length))
          return fail(Error::kBadContentLength, error);
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) note_transfer_encoding(h.value, framing);
        break;
    }
    if (!on_field(h)) return Parse::kError;
  }
  out.head_size = lines.pos();

  // RFC 9112 6.1: Transfer-Encoding with Content-Length, or in HTTP/1.0, is
  // the classic smuggling set-up; and "chunked" must come last, once.
  if (framing.te_seen) {
    if (out.content_length || out.version_minor == 0 || framing.te_bad_coding ||
        framing.te_chunked_not_last)
      return fail(Error::kBadTransferEncoding, error);
    out.chunked = framing.te_last_chunked;
  }
  out.keep_alive =
      out.version_minor == 1 ? !framing.conn_close : framing.conn_keep_alive && !framing.conn_close;
  // RFC 9110 7.8: Upgrade in HTTP/1.0 is ignored.
  out.upgrade = out.version_minor == 1 && framing.conn_upgrade && framing.upgrade_field;
  return Parse::kDone;
}

void reset(MessageHead& h) {
  h.version_minor = 1;
  h.content_length.reset();
  h.chunked = false;
  h.keep_alive = true;
  h.upgrade = false;
  h.headers.clear();
  h.head_size = 0;
}

}  // namespace

int request_error_status(Error error) {
  switch (error) {
    case Error::kHeaderTooLarge:
    case Error::kTooManyHeaders: return 431;
    case Error::kBadVersion: return 505;
    case Error::kUnknownCoding: return 501;
    case Error::kBodyTooLarge: return 413;
    default: return 400;
  }
}

const char* error_message(Error error) {
  switch (error) {
    case Error::kNone: return "no error";
    case Error::kBadRequestLine: return "bad request line";
    case Error::kBadStatusLine: return "bad status line";
    case Error::kBadHeader: return "bad header";
    case Error::kHeaderTooLarge: return "header too large";
    case Error::kTooManyHeaders: return "too many headers";
    case Error::kBadContentLength: return "bad Content-Length";
    case Error::kBadTransferEncoding: return "bad Transfer-Encoding";
    case Error::kBadVersion: return "unsupported HTTP version";
    case Error::kBadHost: return "missing, repeated or malformed Host";
    case Error::kUnknownCoding: return "transfer coding not implemented";
    case Error::kBadChunk: return "bad chunked encoding";
    case Error::kBodyTooLarge: return "body too large";
  }
  return "unknown error";
}

namespace {
bool is_hex(char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// RFC 3986 unreserved and sub-delims: what a reg-name is made of, with %XX.
bool is_name_char(char c) {
  if (is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) return true;
  return std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

bool valid_name(std::string_view s, bool colons) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_name_char(s[i]) && !(colons && s[i] == ':')) {
      return false;
    }
  }
  return true;
}
}  // namespace

bool valid_host_field(std::string_view value) {
  std::string_view port;
  if (!value.empty() && value.front() == '[') {  // IPv6 or IPvFuture literal
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    if (!valid_name(value.substr(1, close - 1), true)) return false;
    port = value.substr(close + 1);
  } else {
    const std::size_t colon = value.find(':');
    if (!valid_name(value.substr(0, colon), false)) return false;
    port = colon == std::string_view::npos ? std::string_view() : value.substr(colon);
  }
  if (port.empty()) return true;
  if (port.front() != ':') return false;
  return std::all_of(port.begin() + 1, port.end(), is_digit);
}

const Header* find_header(const MessageHead& head, std::string_view name) {
  for (const Header& h : head.fields())
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

Parse parse_request(std::string_view buffer, HeadLimits limits, RequestHead& out, Error& error) {
  error = Error::kNone;
  reset(out);
  out.method = out.target = out.host = {};
  out.expect_continue = false;
  LineReader lines(buffer.substr(0, std::min(buffer.size(), limits.max_size)));
  const auto incomplete = [&] {
    return buffer.size() <= limits.max_size ? Parse::kIncomplete
                                            : fail(Error::kHeaderTooLarge, error);
  };

  std::string_view line;
  do {  // RFC 9112 2.2: empty lines before a request line are ignored
    switch (lines.next(line)) {
      case LineReader::Result::kLine: break;
      case LineReader::Result::kBareLf: return fail(Error::kBadRequestLine, error);
      case LineReader::Result::kIncomplete: return incomplete();
    }
  } while (line.empty());

  // method SP request-target SP HTTP-version, single spaces only.
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return fail(Error::kBadRequestLine, error);
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!is_token(out.method) || out.target.empty()) return fail(Error::kBadRequestLine, error);
  for (char ch : out.target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return fail(Error::kBadRequestLine, error);
  }
  if (Error e = parse_version(line.substr(sp2 + 1), Error::kBadRequestLine, out.version_minor);
      e != Error::kNone)
    return fail(e, error);

  Framing framing;
  bool host_seen = false;
  const Parse p =
      parse_fields(lines, buffer.size(), limits, out, framing, error, [&](const Header& h) {
        if (h.name.size() == 4 && iequals(h.name, "host")) {
          // Two hosts, even equal, could route one request two ways: RFC
          // 9112 3.2 asks for 400, and so does a value that is no authority.
          if (host_seen || !valid_host_field(h.value)) {
            error = Error::kBadHost;
            return false;
          }
          host_seen = true;
          out.host = h.value;
        } else if (h.name.size() == 6 && iequals(h.name, "expect")) {
          // RFC 9110 10.1.1: ignored in HTTP/1.0.
          out.expect_continue = out.version_minor == 1 && iequals(h.value, "100-continue");
        }
        return true;
      });
  if (p != Parse::kDone) return p;
  if (out.version_minor == 1 && !host_seen) return fail(Error::kBadHost, error);
  // RFC 9112 6.3: a request body is framed by chunked or not at all.
  if (framing.te_seen && !out.chunked) return fail(Error::kBadTransferEncoding, error);
  // RFC 9112 6.1: 501 for a coding we do not implement. De-chunking
  // "gzip, chunked" and sending it on with a Content-Length would silently
  // drop the gzip the body still carries.
  if (framing.te_other_coding) return fail(Error::kUnknownCoding, error);
  return p;
}

Parse parse_response(std::string_view buffer, HeadLimits limits, ResponseHead& out, Error& error) {
  error = Error::kNone;
  reset(out);
  out.status = 0;
  out.reason = {};
  LineReader lines(buffer.substr(0, std::min(buffer.size(), limits.max_size)));

  std::string_view line;
  switch (lines.next(line)) {
    case LineReader::Result::kLine: break;
    case LineReader::Result::kBareLf: return fail(Error::kBadStatusLine, error);
    case LineReader::Result::kIncomplete:
      return buffer.size() <= limits.max_size ? Parse::kIncomplete
                                              : fail(Error::kHeaderTooLarge, error);
  }
  // HTTP-version SP 3DIGIT SP [reason]; the space before an empty reason is
  // often left out and harmless.
  if (Error e = parse_version(line.substr(0, 8), Error::kBadStatusLine, out.version_minor);
      e != Error::kNone)
    return fail(e, error);
  if (line.size() < 12 || line[8] != ' ') return fail(Error::kBadStatusLine, error);
  for (std::size_t i = 9; i < 12; ++i) {
    if (!is_digit(line[i])) return fail(Error::kBadStatusLine, error);
    out.status = out.status * 10 + (line[i] - '0');
  }
  if (out.status < 100) return fail(Error::kBadStatusLine, error);
  if (line.size() > 12) {
    if (line[12] != ' ') return fail(Error::kBadStatusLine, error);
    out.reason = line.substr(13);
    if (!is_field_text(out.reason)) return fail(Error::kBadStatusLine, error);
  }

  Framing framing;
  const Parse p = parse_fields(lines, buffer.size(), limits, out, framing, error,
                               [](const Header&) { return true; });
  // RFC 9112 6.3: a coding other than chunked last means the body runs until
  // the server closes.
  if (p == Parse::kDone && framing.te_seen && !out.chunked) out.keep_alive = false;
  return p;
}

}  // namespace failover::net::http1
