#pragma once
// The client side of a proxy session: the per-connection state, reading and
// checking a request, and the framing of the response body. Internal to
// proxy_session.cc; a header of its own only to keep files small.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>
#include <vector>

#include "core/time.h"
#include "lb/balancer.h"
#include "lb/model.h"
#include "net/deadline.h"
#include "net/http1.h"
#include "net/read_buffer.h"

namespace failover::lb {

class Worker;

// Expected I/O errors come back as values, not exceptions.
inline constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
// One read from a socket: the most a session asks for at a time.
inline constexpr std::size_t kReadSize = 16 * 1024;

struct Session {
  Session(Worker& worker, boost::asio::ip::tcp::socket socket);

  Worker& worker;
  boost::asio::ip::tcp::socket client;
  net::ReadBuffer in;               // from the client
  std::string out;                  // the response head (or error page) for the client
  std::string decoded;              // de-chunked body data for an HTTP/1.0 client
  std::string client_ip;
  boost::asio::ip::tcp::socket* upstream = nullptr;  // the server connection in use
  std::vector<Candidate> candidates;                 // reused by every request
  // Parsed heads (a few KiB each) live here, not in coroutine frames, so a
  // request allocates no frame too large for Asio's frame recycling.
  net::http1::RequestHead request_head;
  net::http1::ResponseHead response_head;
  // The part of a large request body still on the client connection: it is
  // relayed to the server as it comes, framing unchanged, and cannot be sent
  // twice. `sent` counts what went out, so retries know whether they may.
  struct BodyStream {
    bool active = false;          // bytes of this request's body are still unread
    bool chunked = false;         // else `remaining` bytes (Content-Length)
    std::uint64_t remaining = 0;
    std::uint64_t sent = 0;
    std::uint64_t limit = 0;      // bytes still allowed on the wire (chunked_wire_limit)
    net::http1::ChunkedScanner scanner;
  } stream;
  std::string raw_body;        // a chunked body as read, before it is decoded or streamed
  bool client_failed = false;  // the client went away, stalled or sent garbage mid-body
  int client_error = 0;        // ...and deserves this answer (400, 413), none if 0
  bool linger = false;         // closing after an error: the client may still be sending
  // One deadline for whatever the session waits on; when it passes, the
  // client socket and the server socket in use are cancelled.
  net::Deadline deadline;
};

// A request as the server will get it.
struct Request {
  std::string head;          // request line and fields, rewritten (hop-by-hop gone, X-Forwarded-*)
  std::string body;          // whole, de-chunked, framed with Content-Length in `head`;
                             // for a streamed body, what was read of it before (sent first)
  std::string method;
  int version_minor = 1;
  bool idempotent = true;
  bool is_head = false;
  bool keep_alive = true;    // the client's wish
  bool upgrade = false;      // WebSocket and friends
  bool sent_continue = false;  // we answered the client's Expect: 100-continue ourselves
};

// Request bodies up to this size are read whole and kept, so a failed
// attempt can be retried elsewhere; larger ones (with a Content-Length) are
// streamed to the server and make the request unretryable once sent.
inline constexpr std::size_t kRetainedBody = 64 * 1024;

// max_body_size counts a chunked body's data, as nginx does; its framing on
// the wire may add as much again. Beyond that a client is padding chunk
// extensions (up to 4 KiB for each byte of data) to keep us busy.
inline std::uint64_t chunked_wire_limit(const LimitsConfig& limits) {
  return 2 * limits.max_body_size + kRetainedBody;
}

// read_request's answer: 0 and the route on success, a status to answer
// with (400, 408, 413, 431...) and why, or kClosedQuietly when the client
// left or stayed idle (nothing to answer).
inline constexpr int kClosedQuietly = -1;
struct ReadOutcome {
  int status = 0;
  std::string why;
  const UpstreamView* upstream = nullptr;  // nullptr with status 0: no route (404)
  core::TimePoint started;                 // when the first byte of the request arrived
};

// Reads the next request from the client (head within header_timeout after
// its first byte, body within body_timeout) and fills `req`.
boost::asio::awaitable<ReadOutcome> read_request(Session& s, const LimitsConfig& limits,
                                                 const Snapshot& snapshot, Request& req);

struct UpstreamConn;

// After a 101: the bytes each side already sent go first, then both
// directions run until one closes or neither moves for tunnel_timeout
// (proxy_relay.cc).
boost::asio::awaitable<void> tunnel(Session& s, UpstreamConn& conn, const LimitsConfig& limits);

// Relays the rest of a large request body (Session::stream) from the client
// to the server. A client that fails, stalls or sends a malformed or
// oversized chunked body sets s.client_failed: not the server's fault; for
// the last two it also sets s.client_error (400, 413), which the client is
// told once the server connection is dropped: no byte of the response has
// gone to the client yet.
boost::asio::awaitable<boost::system::error_code> stream_request_body(Session& s, UpstreamConn& conn,
                                                                      const LimitsConfig& limits);

// "HTTP/1.1 503 Service Unavailable" with a one-line text body saying why.
void append_error_response(int status, std::string_view why, bool keep_alive, std::string& out);

// Where a response body ends (RFC 9112 6.3): no body, a length, chunked,
// or the server closing.
class BodyFraming {
 public:
  static BodyFraming of(const net::http1::ResponseHead& head, bool head_request);
  // How many of `available` bytes belong to the body; consumes them from
  // the framing's count. When decoding, the data goes to `*decoded` and
  // those bytes are what the client gets instead.
  std::size_t take(std::string_view available, net::http1::Error& error, std::string* decoded);
  bool done() const;
  bool until_close() const { return kind_ == Kind::kUntilClose; }
  bool sized() const { return kind_ == Kind::kLength; }
  bool decodes() const { return kind_ == Kind::kDechunk; }
  // For an HTTP/1.0 client, which cannot read chunked framing: the chunks'
  // data is sent bare and the end of the body is the connection closing.
  void dechunk() { if (kind_ == Kind::kChunked) kind_ = Kind::kDechunk; }

 private:
  enum class Kind { kNone, kLength, kChunked, kDechunk, kUntilClose };
  Kind kind_ = Kind::kNone;
  std::uint64_t remaining_ = 0;
  net::http1::ChunkedScanner scanner_;
  net::http1::ChunkedDecoder decoder_{UINT64_MAX};
  bool decoded_all_ = false;
};

}  // namespace failover::lb
