#pragma once
// Header rewriting between client and server (RFC 9110 section 7.6.1,
// RFC 9112): hop-by-hop fields are the business of one connection and are
// not forwarded; X-Forwarded-For/-Proto tell the server who asked.
// Pure functions on Beast messages, so they are unit-tested and fuzzed.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string_view>

namespace failover::lb {

namespace http = boost::beast::http;

// A client request asking to switch protocols (WebSocket): "Upgrade" and
// "Connection: upgrade" both present.
bool is_upgrade(const http::request_header<>& req);

// Why a parsed request must be refused with 400 although the parser took it,
// or nullptr. A Transfer-Encoding other than chunked cannot be framed
// (RFC 9112 6.1); passing it on would let a request be smuggled.
const char* request_framing_error(const http::request_header<>& req, bool parser_chunked);

// Removes hop-by-hop fields (and every field named in Connection), then adds
// the client to X-Forwarded-For and sets X-Forwarded-Proto: http. For an
// upgrade, Upgrade and "Connection: upgrade" are kept. The result is HTTP/1.1
// with keep-alive towards the server. Transfer-Encoding goes too: the body is
// whole in memory and prepare_payload() frames it with Content-Length.
void prepare_upstream_request(http::request_header<>& req, std::string_view client_ip,
                              bool upgrade);

// Removes hop-by-hop fields from a server's response, except the framing the
// serializer needs (Transfer-Encoding: chunked) and, for a 101, the upgrade
// fields; then says keep-alive or close to the client.
void prepare_client_response(http::response_header<>& res, bool client_keep_alive);

}  // namespace failover::lb
