#include "client/http_get.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <vector>

#include "client/resolver.h"
#include "net/endpoint.h"
#include "net/url.h"

namespace failover::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string endpoint_text(const std::string& ip, std::uint16_t port) {
  return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

}  // namespace

core::Result<HttpGetRequest> parse_get_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return core::Error::invalid("bad URL \"" + std::string(url) + "\": expected http://host[:port]/path");
  const auto rest = url.substr(scheme_end + 3);
  const auto end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, end);
  auto base = net::parse_http_url(std::string(url.substr(0, scheme_end + 3)) + std::string(authority));
  if (!base) return base.error();
  std::string target(end == std::string_view::npos ? "" : rest.substr(end));
  if (const auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  for (const char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return core::Error::invalid("bad URL \"" + std::string(url) +
                                  "\": spaces and control characters are not allowed");
  if (target.empty() || target.front() != '/') target.insert(0, "/");
  const auto hp = net::split_host_port(base->host_port);
  HttpGetRequest out;
  out.host = hp->host;
  out.port = hp->port;
  out.authority = std::string(authority);
  out.target = std::move(target);
  return out;
}

asio::awaitable<core::Result<int>> http_get(Resolver& resolver, HttpGetRequest request,
                                            HttpGetObserver observer) {
  http::request<http::empty_body> req{http::verb::get, request.target, 11};
  req.set(http::field::host, request.authority);
  req.set(http::field::user_agent, request.user_agent);
  req.set(http::field::accept, "*/*");
  req.set(http::field::connection, "close");

  std::vector<std::string> avoid;  // IPs that failed this request, never tried twice
  bool reported = false;
  ConnectObserver watch;
  watch.resolved = [&](const Resolution& r) {
    if (!reported && observer.resolved) observer.resolved(r);
    reported = true;
  };
  watch.attempt_failed = [&](const ConnectAttempt& f) {
    if (observer.attempt_failed) observer.attempt_failed(endpoint_text(f.ip, request.port), f.why, false);
    avoid.push_back(f.ip);
  };
  for (;;) {  // bounded: every round adds to `avoid`, and connect() stops at max_retries
    // connect() has its own copy of `avoid`: `watch` adds to ours meanwhile.
    const std::vector<std::string> tried = avoid;
    auto c = co_await resolver.connect(request.host, request.port, tried, watch);
    // kNotFound (not resolved) and kUnavailable (no IP accepted) as they are.
    if (!c) co_return c.error();
    const std::string where = endpoint_text(c->ip, request.port);
    if (observer.connected) observer.connected(where);
    beast::tcp_stream stream(std::move(c->socket));
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // streamed to the observer, never held
    stream.expires_after(request.read_timeout);
    auto [wec, written] = co_await http::async_write(stream, req, kTuple);
    boost::system::error_code rec;
    if (!wec) std::tie(rec, std::ignore) = co_await http::async_read_header(stream, buffer, parser, kTuple);
    const auto ec = wec ? wec : rec;
    if (ec) {
      const bool timed_out = ec == beast::error::timeout;
      if (!timed_out && !parser.got_some() && buffer.size() == 0) {
        // Nothing came back: the server cannot have acted on a GET it never
        // answered, so another IP may have it (GET is idempotent).
        if (observer.attempt_failed)
          observer.attempt_failed(where, "closed before any response byte (" + ec.message() + ")", true);
        avoid.push_back(c->ip);
        continue;
      }
      if (timed_out) co_return core::Error::timeout(where + ": timed out");
      co_return core::Error::invalid(where + ": " + ec.message());
    }
    const int status = static_cast<int>(parser.get().result_int());
    if (observer.head && !observer.head(where, status)) co_return status;
    std::vector<char> buf(64 * 1024);
    while (!parser.is_done()) {
      auto& body = parser.get().body();
      body.data = buf.data();
      body.size = buf.size();
      body.more = true;
      stream.expires_after(request.read_timeout);
      auto [bec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
      const std::size_t got = buf.size() - body.size;
      if (got > 0 && observer.body) observer.body(std::string_view(buf.data(), got));
      if (bec == http::error::need_buffer) continue;
      if (bec) {
        std::string why = where + ": body cut short (" + bec.message() + ")";
        if (bec == beast::error::timeout) co_return core::Error::timeout(std::move(why));
        co_return core::Error::invalid(std::move(why));
      }
    }
    co_return status;
  }
}

}  // namespace failover::client
