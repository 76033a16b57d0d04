#pragma once
// Loopback ports without the bind-close-rebind race. Picking a free port by
// binding port 0, closing, and binding it again later leaves a window in
// which another test process (ctest -j, other engineers' builds) can take it.
// So: hand over what is already bound, hold a refusing port for as long as a
// test needs it, and retry where code under test must bind a number itself.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

#include <string>

namespace failover::test {

inline boost::asio::ip::tcp::endpoint loopback(unsigned short port = 0) {
  return {boost::asio::ip::make_address("127.0.0.1"), port};
}

inline std::string host_port(unsigned short port) { return "127.0.0.1:" + std::to_string(port); }

// An acceptor listening on 127.0.0.1 at a port the kernel chose; the port is
// ours from the first moment, so a server that takes this acceptor has no race.
inline boost::asio::ip::tcp::acceptor bound_acceptor(boost::asio::io_context& io) {
  return boost::asio::ip::tcp::acceptor(io, loopback(0));
}

// A loopback port where every connection is refused while this object
// lives: the socket is bound but never listens, so the kernel answers a SYN
// with a reset, and (no SO_REUSEADDR) no one else can bind the port meanwhile.
class RefusingPort {
 public:
  explicit RefusingPort(boost::asio::io_context& io) : socket_(io) {
    socket_.open(boost::asio::ip::tcp::v4());
    socket_.bind(loopback(0));
  }
  unsigned short port() const { return socket_.local_endpoint().port(); }
  std::string host_port() const { return test::host_port(port()); }

 private:
  boost::asio::ip::tcp::socket socket_;
};

// A port nothing listened on a moment ago (the kernel's pick, then closed).
// Racy by nature: prefer bound_acceptor, RefusingPort or start_on_free_port.
inline unsigned short free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, loopback(0));
  return a.local_endpoint().port();
}

// For code under test that binds a port number itself (net::serve_http):
// calls start(endpoint) on a free port, and again on another should the port
// have been taken in between (EADDRINUSE). Returns the port it started on.
// Any other error, or `attempts` losses in a row, throws.
template <class Start>
unsigned short start_on_free_port(Start&& start, int attempts = 20) {
  for (int i = 1;; ++i) {
    const unsigned short port = free_port();
    try {
      start(loopback(port));
      return port;
    } catch (const boost::system::system_error& e) {
      if (e.code() != boost::asio::error::address_in_use || i >= attempts) throw;
    }
  }
}

}  // namespace failover::test
