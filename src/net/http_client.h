#pragma once
// A small async HTTP/1.1 client for JSON APIs: the registry client, the
// agent, the LB's discovery, peer replication and etcd's JSON API. Whole
// bodies in memory (bounded), one keep-alive connection kept per host, and
// one deadline for each request. Not the proxy's data path.
//
// Errors are values: a request never throws for anything the network or the
// server does (refused, reset, timeout, malformed reply, body too large).
// The request deadline is decided by the core::Clock the client was given, so
// a test with a ManualClock decides when a request times out.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace failover::net {

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query as sent: "/v1/services/web?index=3"
  // Extra fields. Host, User-Agent and Content-Length are set by the client;
  // Content-Type is application/json when the body is not empty and no
  // Content-Type is given here.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked

  // The first header named `name` (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

struct HttpClientOptions {
  std::size_t max_body_size = 16 * 1024 * 1024;  // larger bodies fail with an error
  std::size_t max_header_size = 64 * 1024;
  std::string user_agent = "failover";
};

// What stream() does besides delivering body pieces.
struct StreamOptions {
  // For connect, sending the request and receiving the response head.
  std::chrono::milliseconds head_timeout{10'000};
  // Longest silence allowed between two pieces of the body; 0: none (a
  // watch may stay quiet for hours; cancel it to end it).
  std::chrono::milliseconds idle_timeout{0};
  // A chunk bigger than this ends the stream with an error.
  std::size_t max_piece_size = 16 * 1024 * 1024;
  // Called once with status and headers (body empty) before any piece;
  // returning false ends the stream at once. Without it every status's body
  // is delivered, so callers that care about the status should set it.
  std::function<bool(const ClientResponse& head)> on_head;
};

// Bound to one executor whose io_context runs on one thread: every call must
// be made from that thread, and the class is not thread-safe. Calls may
// overlap (several coroutines on that thread): each request takes the idle
// connection to its host out of the pool or, when there is none, opens
// another; only one idle connection per host is kept afterwards, the others
// are closed. Requests and streams hold the client's internals alive, so the
// client may be destroyed while they are still running: they go on to their
// end or deadline, and their connections are then closed, not kept.
class HttpClient {
 public:
  // `clock` decides request deadlines; it must outlive the client and every
  // request still running.
  explicit HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options = {},
                      const core::Clock& clock = core::SteadyClock::instance());
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `req` to `host_port` ("127.0.0.1:8500", "[::1]:80" or a name, which
  // is resolved) and reads the whole response: any status, 5xx included, is
  // a value. `timeout` covers everything: connect, send and read, measured on
  // the client's clock; when it passes the socket is closed. A kept
  // connection that the server closed while idle is noticed before use, or,
  // when the close crosses the request, reconnected once and the request sent
  // again (only if not one byte of a response arrived). The connection is
  // kept for the next request to the same host unless the server asked to
  // close it.
  //
  // The error code says whether the server may have acted on the request,
  // which a compare-and-set (an arbiter's) relies on:
  //   kUnavailable  the request was certainly never sent: the name did not
  //                 resolve, the connect was refused, reset or unreachable, or
  //                 the deadline passed while connecting;
  //   kTimeout      the outcome is unknown: the request was (perhaps partly)
  //                 written, then the deadline passed, or the connection was
  //                 reset or closed, or the reply could not be read (too big,
  //                 malformed) before a whole response arrived;
  //   kCancelled    the caller cancelled the request (through its
  //                 cancellation slot); it may have been sent;
  //   kInvalid      `host_port` is not host:port.
  // The message names the step and the peer, for people:
  // "connect 127.0.0.1:8500: Connection refused",
  // "read from 127.0.0.1:8500: timed out after 200ms".
  boost::asio::awaitable<core::Result<ClientResponse>> request(std::string host_port, ClientRequest req,
                                                               std::chrono::milliseconds timeout);

  // For long-lived responses (etcd's watch: a chunked body with one JSON
  // object per chunk, forever). Uses a connection of its own, closed at the
  // end. Calls `on_body_piece` for each piece of the body as it arrives: a
  // whole chunk at a time for a chunked body, whatever the socket read gave
  // otherwise (callers must still cope with an object split across pieces).
  // Ends, returning:
  //   {}                when the callback (or on_head) returned false, or the
  //                     body ended normally;
  //   an error          when the server closed mid-body (partial_message),
  //                     connect/read failed, a timeout of `options` passed
  //                     (timed_out), or the call was cancelled through its
  //                     cancellation slot, e.g. `co_await (stream(..) || timer)`
  //                     (operation_aborted).
  boost::asio::awaitable<boost::system::error_code> stream(
      std::string host_port, ClientRequest req,
      std::function<bool(std::string_view piece)> on_body_piece, StreamOptions options = {});

  // Closes the kept idle connections (requests in flight are not touched).
  void close_idle();
  // Idle connections currently kept, for tests and /status.
  std::size_t idle_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace failover::net
