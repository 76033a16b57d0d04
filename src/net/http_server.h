#pragma once
// A small HTTP/1.1 server for APIs (admin, registry, HTTPDNS, the store's
// keys): whole bodies in memory, within a budget over all connections;
// keep-alive, pipelining, Expect: 100-continue, bounded header and body
// sizes, deadlines. Heads are parsed with the proxy's strict parser
// (net/http1.h: a request it would refuse as ambiguous is refused here too).
// Not the proxy's data path, which streams (see lb/proxy_session.cc).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "net/json_quote.h"

namespace failover::net {

struct HttpRequest {
  std::string method;   // "GET"
  std::string target;   // "/status?x=1", as sent
  std::string path;     // "/status", percent-decoding not applied
  std::string query;    // "x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;   // peer "ip:port"

  // The first header named `name` (case-insensitive), or "".
  std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  // Static text (a literal): a view, so a reply costs no copy of it.
  std::string_view content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body);
  // {"error":"message"} with the given status.
  static HttpResponse error(int status, std::string_view message);
  // 200, Prometheus text exposition format (every role's /metrics).
  static HttpResponse metrics(std::string body);
  // 200, an HTML page (every role's dashboard at /).
  static HttpResponse html(std::string body);
};

using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

struct HttpServerLimits {
  std::size_t max_header_size = 16 * 1024;
  std::size_t max_body_size = 1024 * 1024;
  // The least room a read of a head or of a chunked body gets (at least
  // 4 KiB); a server taking large chunked bodies wants more (a 16 MiB body at
  // 512 bytes a read: 32 768 reads, over a second). A body of known length
  // is read straight into its string, as much as each read brings.
  std::size_t read_buffer_bytes = 0;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // Between two reads of a body (nginx's client_body_timeout): a slow upload
  // goes on as long as it moves; a stalled one is closed.
  std::chrono::milliseconds body_timeout{60'000};
  int max_connections = 1024;
  // The request bodies held at once over all connections, from their first
  // byte until the handler's answer; 0: no bound. A request whose
  // Content-Length does not fit gets 503 with Retry-After before its body is
  // read (and before a 100 Continue); a chunked body that grows past the room
  // left gets 503 then. Either way the connection closes.
  std::size_t max_body_bytes_held = 0;
};

// Accepts on `endpoint` and serves every request with `handler`, on `io`,
// until `io` stops. Throws boost::system::system_error if it cannot bind.
void serve_http(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                HttpHandler handler, HttpServerLimits limits = {});

}  // namespace failover::net
