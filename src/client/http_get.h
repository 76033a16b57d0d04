#pragma once
// GET an http:// URL through the Resolver, failing over between the host's
// IPs: what `failover get` does, for applications that link the client
// library (docs: resolver.md).
//
// The rule that makes it more than connect(): when a connection closes (or
// resets) before one byte of the response arrived, the server cannot have
// acted on the GET, so another IP is tried; GET is idempotent. Once a byte
// arrived, or after a timeout (the server may be working on it), there is no
// retry. Every IP is tried at most once, and 1 + max_retries at most in all.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace failover::client {

class Resolver;
struct Resolution;

struct HttpGetRequest {
  std::string host;       // resolved through the Resolver
  std::uint16_t port = 80;
  std::string authority;  // the Host header, as written in the URL
  std::string target;     // path and query, starting with '/'
  std::string user_agent = "failover";
  std::chrono::milliseconds read_timeout{30'000};  // waiting for response bytes, each time
};

// http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT] (the fragment is not sent).
// kInvalid, with a message for people, for anything else.
core::Result<HttpGetRequest> parse_get_url(std::string_view url);

// What happened on the way, in order, for a caller that shows progress;
// every member may be left empty. "where" is "IP:PORT" ("[v6]:PORT").
struct HttpGetObserver {
  std::function<void(const Resolution&)> resolved;  // once, before any connection
  // An IP that failed: refused or timed out connecting (connected false), or
  // closed before any response byte (connected true). The next IP follows.
  std::function<void(const std::string& where, const std::string& why, bool connected)> attempt_failed;
  std::function<void(const std::string& where)> connected;
  // The response head; false stops before the body (http_get still returns the status).
  std::function<bool(const std::string& where, int status)> head;
  // Body bytes as they arrive (never held whole).
  std::function<void(std::string_view piece)> body;
};

// Runs on the resolver's executor and thread. Returns the HTTP status of the
// response whose body was delivered, whatever it is (a 5xx too). Errors:
//   kNotFound     the host could not be resolved
//   kUnavailable  no IP gave a reply: each tried refused, timed out
//                 connecting, or closed before any response byte
//   kTimeout      a server accepted the request but sent nothing (or
//                 nothing more) within read_timeout
//   kInvalid      the connection broke after the response started, or the
//                 reply is not HTTP
// The message says where and why: "127.0.0.1:8080: body cut short (...)".
boost::asio::awaitable<core::Result<int>> http_get(Resolver& resolver, HttpGetRequest request,
                                                   HttpGetObserver observer = {});

}  // namespace failover::client
