// Client bytes through the proxy's request path: parse with the proxy's
// limits, rewrite the headers for the server, serialize. Whatever the
// client sent, what we forward must parse again as one valid request with
// the same method, target and body, and carry no hop-by-hop field.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

#include "lb/forward.h"

namespace beast = boost::beast;
namespace http = beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto& req = parser.get();
  if (failover::lb::request_framing_error(req, parser.chunked())) return 0;  // answered with 400
  const bool upgrade = failover::lb::is_upgrade(req);
  failover::lb::prepare_upstream_request(req, "127.0.0.1", upgrade);
  req.prepare_payload();

  std::string wire;
  {
    http::request_serializer<http::string_body> sr{req};
    while (!sr.is_done()) {
      sr.next(ec, [&](beast::error_code&, const auto& buffers) {
        for (auto b : beast::buffers_range_ref(buffers))
          wire.append(static_cast<const char*>(b.data()), b.size());
        sr.consume(beast::buffer_bytes(buffers));
      });
      if (ec) std::abort();
    }
  }
  http::request_parser<http::string_body> again;
  again.header_limit(64 * 1024);
  again.body_limit(64 * 1024);
  again.eager(true);
  again.put(boost::asio::buffer(wire), ec);
  if (ec || !again.is_done()) std::abort();
  const auto& back = again.get();
  if (back.method_string() != req.method_string() || back.target() != req.target() ||
      back.body() != req.body())
    std::abort();
  if (back.find(http::field::keep_alive) != back.end() || back.find(http::field::te) != back.end())
    std::abort();
  return 0;
}
