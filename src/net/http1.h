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
  kBadVersion,
  kBadChunk,
};

// A short English phrase for logs and error pages ("bad header"), never null.
const char* error_message(Error error);

constexpr std::size_t kMaxHeaders = 100;

// What both kinds of head say about the body and the connection.
struct MessageHead {
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1; other versions are kBadVersion
  // Set from Content-Length. Never set together with `chunked`: a message
  // carrying both Content-Length and Transfer-Encoding is refused.
  std::optional<std::uint64_t> content_length;
  bool chunked = false;    // Transfer-Encoding ends in "chunked"
  bool keep_alive = true;  // the connection may carry another message after this one
  bool upgrade = false;    // HTTP/1.1, Connection lists "upgrade" and Upgrade is present
  std::array<Header, kMaxHeaders> headers;
  std::size_t header_count = 0;
  std::size_t head_size = 0;  // bytes up to and including the blank line

  std::span<const Header> fields() const { return {headers.data(), header_count}; }
};

struct RequestHead : MessageHead {
  std::string_view method;       // a token, case as sent ("GET")
  std::string_view target;       // as sent: "/a?b", "http://h/a", "*", "h:443"
  std::string_view host;         // the Host field, "" when absent
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
// and a Host, Content-Length or Transfer-Encoding that can be read two ways are
// errors.
Parse parse_request(std::string_view buffer, std::size_t max_head_size, RequestHead& out,
                    Error& error);
Parse parse_response(std::string_view buffer, std::size_t max_head_size, ResponseHead& out,
                     Error& error);

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
// Proxy-Authenticate) and minus Content-Length; then "X-Forwarded-For: <the
// client's list>, <client_ip>", "X-Forwarded-Proto: http", "Content-Length: N"
// when body_length is set and N > 0 or the method is POST, PUT or PATCH, and
// for an upgrade the client's Upgrade fields and "Connection: upgrade". No
// Connection otherwise: keep-alive is HTTP/1.1's default. Appends to `out` and
// allocates only when `out` lacks capacity.
void write_request_head(const RequestHead& req, std::string_view client_ip,
                        std::optional<std::uint64_t> body_length, bool upgrade, std::string& out);

// Writes the response for the client: "HTTP/1.1 STATUS REASON", the server's
// fields minus hop-by-hop ones except Content-Length and Transfer-Encoding,
// which stay as sent because the body is relayed unchanged (Transfer-Encoding
// is left out for an HTTP/1.0 client: the caller de-chunks and closes). A 101 keeps
// Upgrade and gets "Connection: upgrade"; otherwise "Connection: close" when
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
  // Returns how many bytes at the start of `in` belong to the body: all of
  // them, or fewer once the body ends (done() turns true and the rest is the
  // next message) or is malformed (`error` is kBadChunk, the count stops
  // before the bad byte, and every later call returns 0 with the same error).
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
  // The scan itself; with `sink`, chunk data is appended to it, and a chunk
  // that would take the data past `budget` bytes stops the scan with
  // `over_budget` set, before any of its data is read.
  std::size_t run(std::string_view in, Error& error, std::string* sink, std::uint64_t& budget,
                  bool& over_budget);
  std::size_t fail(Error& error, std::size_t at);

  State state_ = State::kSize;
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
  explicit ChunkedDecoder(std::uint64_t max_body) : budget_(max_body) {}
  // Appends the data of the body bytes at the start of `in` to `body` and
  // sets `used` to how many bytes of `in` belonged to the body. kNeedMore:
  // all of `in` was used, call again with more. kDone: the body ended, the
  // rest of `in` is the next message. kError: `error` says why. After
  // kTooLarge or kError every call returns the same with `used` == 0.
  Decode decode(std::string_view in, std::string& body, std::size_t& used, Error& error);

 private:
  ChunkedScanner scanner_;
  std::uint64_t budget_;
  bool too_large_ = false;
};

}  // namespace failover::net::http1
