#include "lb/forward.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <string>
#include <vector>

namespace failover::lb {

namespace beast = boost::beast;

namespace {

// Fields named in a Connection header are hop-by-hop too (RFC 9110 7.6.1).
template <class Fields>
void erase_connection_listed(Fields& f, bool keep_upgrade) {
  std::vector<std::string> named;
  for (auto token : http::token_list(f[http::field::connection]))
    named.emplace_back(token);
  for (const auto& name : named) {
    if (keep_upgrade && beast::iequals(name, "upgrade")) continue;
    if (beast::iequals(name, "close") || beast::iequals(name, "keep-alive")) continue;
    f.erase(name);
  }
}

template <class Fields>
void erase_hop_by_hop(Fields& f, bool keep_upgrade) {
  erase_connection_listed(f, keep_upgrade);
  f.erase(http::field::connection);
  f.erase(http::field::keep_alive);
  f.erase(http::field::proxy_connection);
  f.erase(http::field::proxy_authenticate);
  f.erase(http::field::proxy_authorization);
  f.erase(http::field::te);
  f.erase(http::field::trailer);
  if (!keep_upgrade) f.erase(http::field::upgrade);
}

}  // namespace

const char* request_framing_error(const http::request_header<>& req, bool parser_chunked) {
  if (req.find(http::field::transfer_encoding) != req.end() && !parser_chunked)
    return "Transfer-Encoding other than chunked";
  return nullptr;
}

bool is_upgrade(const http::request_header<>& req) {
  if (req.find(http::field::upgrade) == req.end()) return false;
  return http::token_list(req[http::field::connection]).exists("upgrade");
}

void prepare_upstream_request(http::request_header<>& req, std::string_view client_ip,
                              bool upgrade) {
  erase_hop_by_hop(req, upgrade);
  req.erase(http::field::transfer_encoding);
  req.version(11);
  if (upgrade) req.set(http::field::connection, "upgrade");
  auto xff = req.find("X-Forwarded-For");
  if (xff == req.end()) {
    req.set("X-Forwarded-For", client_ip);
  } else {
    std::string joined(xff->value());
    joined.append(", ").append(client_ip);
    req.set("X-Forwarded-For", joined);
  }
  req.set("X-Forwarded-Proto", "http");
}

void prepare_client_response(http::response_header<>& res, bool client_keep_alive) {
  const bool switching = res.result() == http::status::switching_protocols;
  erase_hop_by_hop(res, switching);
  if (switching) {
    res.set(http::field::connection, "upgrade");
    return;
  }
  // What message::keep_alive() would do, on a bare header.
  if (res.version() >= 11) {
    if (!client_keep_alive) res.set(http::field::connection, "close");
  } else if (client_keep_alive) {
    res.set(http::field::connection, "keep-alive");
  }
}

}  // namespace failover::lb
