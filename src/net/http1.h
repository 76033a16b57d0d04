#pragma once
// HTTP/1.1 message heads (RFC 9112) for the proxy's data path. Parsing points
// into the caller's buffer and writing appends to the caller's string, so a
// request costs no heap allocation. Strict on purpose: a message that one
// parser reads differently from another is how requests get smuggled, so
// anything ambiguous is an error the caller answers with 400 (or 502 when a
// server sent it). Every function is pure and may run on any thread.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace failover::net::http1 {

struct Header {
  std::string_view name;   // as sent; compare with iequals()
  std::string_view value;  // without surrounding spaces and tabs
};

enum class Error {
  kNone,
  kBadRequestLine,
  kBadStatusLine,
  kBadHeader,
  kHeaderTooLarge,
  kTooManyHeaders,
  kBadContentLength,
  kBadTransferEncoding,
  kBadVersion,        // not HTTP/1.x: answer 505
  kBadHost,           // HTTP/1.1 without Host, two Host fields, or not an authority
  kUnknownCoding,     // a transfer coding other than chunked: answer 501
  kBadChunk,
  kBodyTooLarge,      // chunk sizes add up past the limit: answer 413
};

// A short English phrase for logs and error pages ("bad header"), never null.
const char* error_message(Error error);

// The status to answer a request whose head or body failed to parse: 431
// for size and count, 505 for a version, 501 for a transfer coding, 413 for
// a body over the limit, else 400.
int request_error_status(Error error);

// How many fields a head may have unless the caller says otherwise
// (HAProxy's tune.http.maxhdr is 101).
constexpr std::size_t kDefaultMaxHeaders = 100;

// What a head may cost: bytes up to the blank line, and fields. Built from
// a size alone for callers that keep the default count.
struct HeadLimits {
  HeadLimits(std::size_t max_size, std::size_t max_fields = kDefaultMaxHeaders)  // NOLINT: implicit on purpose
      : max_size(max_size), max_fields(max_fields) {}
  std::size_t max_size;
  std::size_t max_fields;
};

// What both kinds of head say about the body and the connection.
struct MessageHead {
  // HTTP/1.0 or HTTP/1.1; a higher 1.x is read as 1.1 (RFC 9110 2.5), other
  // versions are kBadVersion.
  int version_minor = 1;
  // Set from Content-Length. Never set together with `chunked`: a message
  // carrying both Content-Length and Transfer-Encoding is refused.
  std::optional<std::uint64_t> content_length;
  bool chunked = false;    // Transfer-Encoding ends in "chunked"
  bool keep_alive = true;  // the connection may carry another message after this one
  bool upgrade = false;    // HTTP/1.1, Connection lists "upgrade" and Upgrade is present
  // Kept between parses, so a head reused for every message of a connection
  // allocates only when it meets more fields than before.
  std::vector<Header> headers;
  std::size_t head_size = 0;  // bytes up to and including the blank line

  std::span<const Header> fields() const { return headers; }
};

struct RequestHead : MessageHead {
  std::string_view method;       // a token, case as sent ("GET")
  std::string_view target;       // as sent: "/a?b", "http://h/a", "*", "h:443"
  std::string_view host;         // the Host field, "" when absent (HTTP/1.0 only)
  bool expect_continue = false;  // HTTP/1.1 with "Expect: 100-continue"
};

// The caller still applies RFC 9112 6.3: a response to HEAD, any 1xx, 204 and
// 304 have no body whatever the framing fields say. A response whose
// Transfer-Encoding does not end in chunked has chunked == false, no
// content_length and keep_alive == false: its body runs until the server closes.
struct ResponseHead : MessageHead {
  int status = 0;  // 100..999
  std::string_view reason;
};

enum class Parse { kIncomplete, kDone, kError };

// Parses the head at the start of `buffer` (leading empty lines before a
// request line are skipped and counted in head_size). Returns kDone with `out`
// filled and views into `buffer`, valid while it is; kIncomplete when the blank
// line has not arrived and buffer.size() <= max_head_size, to be called again
// with the same bytes and more; kError with `error` set otherwise, including
// kHeaderTooLarge when the head is longer than max_head_size. A line is judged
// once its CRLF has arrived, so a bad request line fails before the head ends.
// Bytes after head_size (a body, a pipelined request) are not looked at.
// Lines must end in CRLF; obs-fold, a space before a colon, control characters
// and a Content-Length or Transfer-Encoding that can be read two ways are
// errors; so is a request with two Host fields, an HTTP/1.1 request with
// none, and a Host that is not an authority (RFC 9112 3.2). A request whose
// Transfer-Encoding is chunked after another coding is kUnknownCoding (we
// would have to drop a coding to frame it): only "chunked" alone passes.
// kTooManyHeaders past limits.max_fields fields, kHeaderTooLarge past
// limits.max_size bytes.
Parse parse_request(std::string_view buffer, HeadLimits limits, RequestHead& out, Error& error);
Parse parse_response(std::string_view buffer, HeadLimits limits, ResponseHead& out, Error& error);

// A Host field value: uri-host [":" port] (RFC 9110 7.2), where uri-host is
// an IP literal in brackets or a reg-name (unreserved, %XX, sub-delims).
// Empty is valid: it is what a client sends for a target with no authority.
bool valid_host_field(std::string_view value);

// ASCII case-insensitive comparison, for field names and tokens.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x - 'A' < 26u) x += 32;  // unsigned wrap-around: one comparison per range
    if (y - 'A' < 26u) y += 32;
    if (x != y) return false;
  }
  return true;
}

// Calls f(element) for each non-empty element of a comma-separated field
// value (RFC 9110 5.6.1), without the spaces and tabs around it.
template <class F>
void for_each_element(std::string_view list, F&& f) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view e = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    while (!e.empty() && (e.front() == ' ' || e.front() == '\t')) e.remove_prefix(1);
    while (!e.empty() && (e.back() == ' ' || e.back() == '\t')) e.remove_suffix(1);
    if (!e.empty()) f(e);
  }
}

// The first field named `name` (any case), or nullptr.
const Header* find_header(const MessageHead& head, std::string_view name);

// Writes the request for the server: "METHOD TARGET HTTP/1.1", the client's
// fields minus hop-by-hop ones (Connection and those it names, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authorization,
// Proxy-Authenticate) and minus Content-Length; Connection can never name
// Host, Content-Length or Transfer-Encoding away (they frame and route the
// message end to end, so dropping them would change what it means). Then an
// empty "Host:" for an HTTP/1.0 request that had none (HTTP/1.1 requires
// one), "X-Forwarded-For: <the client's list>, <client_ip>", "X-Forwarded-Proto: http", "Content-Length: N"
// when body_length is set and N > 0 or the method is POST, PUT or PATCH, and
// for an upgrade the client's Upgrade fields and "Connection: upgrade". No
// Connection otherwise: keep-alive is HTTP/1.1's default. Appends to `out` and
// allocates only when `out` lacks capacity.
void write_request_head(const RequestHead& req, std::string_view client_ip,
                        std::optional<std::uint64_t> body_length, bool upgrade, std::string& out);

// Writes the response for the client: "HTTP/1.1 STATUS REASON", the server's
// fields minus hop-by-hop ones except Content-Length and Transfer-Encoding,
// which stay as sent because the body is relayed unchanged (Transfer-Encoding
// is left out for an HTTP/1.0 client: the caller de-chunks and closes; and
// for an interim 1xx, which has no body). A 101 keeps
// Upgrade and gets "Connection: upgrade"; another 1xx no Connection at all;
// otherwise "Connection: close" when
// !keep_alive_to_client, and "Connection: keep-alive" when keeping an HTTP/1.0
// client's connection (such a client assumes close without it). Appends to
// `out` and allocates only when `out` lacks capacity.
void write_response_head(const ResponseHead& res, bool keep_alive_to_client, std::string& out,
                         int client_version_minor = 1);

// Longest chunk-size line (size and extensions), and all trailer fields
// together; beyond them a peer only wastes our time.
constexpr std::size_t kMaxChunkLine = 4096;
constexpr std::size_t kMaxTrailerSize = 16 * 1024;

// Finds where a chunked body (RFC 9112 7.1) ends without copying or changing
// it, so the proxy can relay it as it arrives. Feed it the bytes after the
// head in pieces of any size; the result does not depend on how they are cut.
class ChunkedScanner {
 public:
  ChunkedScanner() = default;
  // A body whose chunk sizes add up to more than max_data fails with
  // kBodyTooLarge as soon as the size line that passes it ends, before any of
  // that chunk's data: a client declaring a huge chunk is told at once.
  explicit ChunkedScanner(std::uint64_t max_data) : budget_(max_data) {}
  // Returns how many bytes at the start of `in` belong to the body: all of
  // them, or fewer once the body ends (done() turns true and the rest is the
  // next message) or fails (`error` is kBadChunk or kBodyTooLarge, the count
  // stops before the bad byte, and every later call returns 0 with the same
  // error).
  std::size_t scan(std::string_view in, Error& error);
  bool done() const { return state_ == State::kDone; }

 private:
  friend class ChunkedDecoder;
  enum class State : std::uint8_t {
    kSize,
    kSizeSpace,
    kExtension,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerStart,
    kTrailerName,
    kTrailerValue,
    kTrailerLf,
    kEndLf,
    kDone,
    kError
  };
  // The scan itself; with `sink`, chunk data is appended to it.
  std::size_t run(std::string_view in, Error& error, std::string* sink);
  std::size_t fail(Error& error, std::size_t at, Error why = Error::kBadChunk);

  State state_ = State::kSize;
  Error failure_ = Error::kNone;  // why state_ is kError
  std::uint64_t budget_ = UINT64_MAX;  // chunk data still allowed
  bool has_digit_ = false;
  std::uint64_t remaining_ = 0;  // the size being read, then the data still to come
  std::size_t line_ = 0;         // bytes of the current size line
  std::size_t trailer_ = 0;      // bytes of the trailer section so far
};

enum class Decode { kNeedMore, kDone, kTooLarge, kError };

// A ChunkedScanner that also decodes, for the requests the proxy buffers
// whole (so it can retry them and send them with Content-Length). Trailer
// fields are checked and dropped. kTooLarge (answer 413) comes as soon as a
// chunk size would take the data past max_body, before that chunk's data.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(std::uint64_t max_body) : scanner_(max_body) {}
  // Appends the data of the body bytes at the start of `in` to `body` and
  // sets `used` to how many bytes of `in` belonged to the body. kNeedMore:
  // all of `in` was used, call again with more. kDone: the body ended, the
  // rest of `in` is the next message. kError: `error` says why. After
  // kTooLarge or kError every call returns the same with `used` == 0.
  Decode decode(std::string_view in, std::string& body, std::size_t& used, Error& error);

 private:
  ChunkedScanner scanner_;
};

}  // namespace failover::net::http1
