#include "net/endpoint.h"

#include <boost/asio/io_context.hpp>
#include <charconv>

namespace failover::net {

namespace asio = boost::asio;

std::optional<HostPort> split_host_port(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs []
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || ec != std::errc() || ptr != port.data() + port.size() || value == 0 ||
      value > 65535)
    return std::nullopt;
  return HostPort{std::string(host), static_cast<unsigned short>(value)};
}

std::optional<asio::ip::tcp::endpoint> resolve_endpoint(std::string_view text) {
  auto hp = split_host_port(text);
  if (!hp) return std::nullopt;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(hp->host, ec);
  if (!ec) return asio::ip::tcp::endpoint(address, hp->port);
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(hp->host, std::to_string(hp->port), ec);
  if (ec || results.empty()) return std::nullopt;
  return results.begin()->endpoint();
}

std::string to_string(const asio::ip::tcp::endpoint& ep) {
  if (ep.address().is_v6()) return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace failover::net
