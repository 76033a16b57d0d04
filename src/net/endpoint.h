#pragma once
// "host:port" as written in config files, to socket addresses.
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace failover::net {

struct HostPort {
  std::string host;  // without the [] of an IPv6 literal
  unsigned short port = 0;
};

// "127.0.0.1:80", "[::1]:80", "example.com:80". Nothing when the port is
// missing or outside 1..65535, or the host is empty.
std::optional<HostPort> split_host_port(std::string_view text);

// Resolves "host:port" (IP literals without DNS; names through the system
// resolver, first address). Blocking: for start-up and reload only.
std::optional<boost::asio::ip::tcp::endpoint> resolve_endpoint(std::string_view text);

// "127.0.0.1:80" / "[::1]:80".
std::string to_string(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace failover::net
