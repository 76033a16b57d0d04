#pragma once
#include <boost/asio/ip/tcp.hpp>

namespace failover::net {

// A listening socket on `endpoint`. With `reuse_port`, several threads each
// open their own on the same address (SO_REUSEPORT) and the kernel spreads
// connections among them, so no thread hands sockets to another.
// Throws boost::system::system_error when the address cannot be bound.
boost::asio::ip::tcp::acceptor make_acceptor(const boost::asio::any_io_executor& executor,
                                             const boost::asio::ip::tcp::endpoint& endpoint,
                                             bool reuse_port);

// Throws boost::system::system_error (address in use) when another socket
// holds `endpoint`. SO_REUSEPORT would otherwise let a second process bind
// the same address and silently take half of the traffic.
void ensure_address_free(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace failover::net
