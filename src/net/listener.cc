#include "net/listener.h"

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/socket_base.hpp>

namespace failover::net {

namespace asio = boost::asio;
using asio::ip::tcp;

boost::asio::ip::tcp::acceptor make_acceptor(const asio::any_io_executor& executor,
                                             const tcp::endpoint& endpoint, bool reuse_port) {
  tcp::acceptor acceptor(executor);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  if (reuse_port) {
    using reuse_port_option = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    acceptor.set_option(reuse_port_option(true));
  }
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

void ensure_address_free(const tcp::endpoint& endpoint) {
  asio::io_context io;
  tcp::acceptor probe(io);
  probe.open(endpoint.protocol());
  probe.set_option(asio::socket_base::reuse_address(true));  // TIME_WAIT is not "in use"
  probe.bind(endpoint);
}

}  // namespace failover::net
