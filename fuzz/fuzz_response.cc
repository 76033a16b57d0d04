// Server bytes through the proxy's response path: parse as the proxy does
// (buffer_body, streamed), rewrite the header for the client. Garbage must
// end as a parse error, never a crash or a hang.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "lb/forward.h"

namespace beast = boost::beast;
namespace http = beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(boost::none);
  char buf[512];
  beast::error_code ec;
  auto input = boost::asio::buffer(data, size);
  bool header_done = false;
  for (int rounds = 0; input.size() > 0 && rounds < 100000; ++rounds) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    const std::size_t used = parser.put(input, ec);
    input += used;
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return 0;
    if (parser.is_header_done() && !header_done) {
      header_done = true;
      failover::lb::prepare_client_response(parser.get(), true);
    }
    if (parser.is_done()) break;
    if (used == 0 && parser.get().body().size == sizeof buf) break;  // needs more input
  }
  return 0;
}
