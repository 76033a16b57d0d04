#pragma once
// A stand-in for an HTTP peer (registry, HTTPDNS, etcd gateway) in unit
// tests: an Asio coroutine server on 127.0.0.1 at a port the kernel chose
// (bound before the constructor returns, so no port race), which records
// every request and answers through `reply`, a handler each test sets.
// It can also answer late (`delay`), close without answering (`close`), and
// refuse connections (`refuse`) while keeping its port.
//
// Threads: runs on the io_context given to it, which the test runs on its
// own thread. The server may be destroyed before that io_context: what it
// left pending holds only shared state, never the server itself.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/http_server.h"
#include "support/ports.h"

namespace failover::test {

class FakeHttpServer {
 public:
  using Reply = std::function<net::HttpResponse(const net::HttpRequest&)>;

  explicit FakeHttpServer(boost::asio::io_context& io) : state_(std::make_shared<State>(io)) {
    port_ = state_->acceptor.local_endpoint().port();
    boost::asio::co_spawn(io, accept_loop(state_), boost::asio::detached);
  }
  ~FakeHttpServer() {
    state_->stopped = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
  }
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  unsigned short port() const { return port_; }
  std::string host_port() const { return test::host_port(port_); }  // "127.0.0.1:port"
  std::string url() const { return "http://" + host_port(); }

  // Every request received, in order (also those closed without a reply).
  const std::vector<net::HttpRequest>& seen() const { return state_->seen; }
  // Answers every request from now on with `status` and this JSON body.
  void answer(int status, std::string json_body) {
    state_->reply = [status, body = std::move(json_body)](const net::HttpRequest&) {
      return net::HttpResponse::json(status, body);
    };
  }
  // The handler: request in, response out (200 {} until a test sets one).
  void reply(Reply r) { state_->reply = std::move(r); }
  // Holds each reply this long, in real time. A client on a ManualClock
  // times out when the test moves that clock: delay(1h) holds a reply for
  // as long as any test lasts.
  void delay(std::chrono::milliseconds d) { state_->delay = d; }
  // While true, reads each request, records it, and closes the connection
  // without a reply.
  void close(bool on) { state_->close = on; }
  // While true, connections are refused (reset): the listening socket is
  // closed and a bound, non-listening one keeps the port meanwhile.
  void refuse(bool on) {
    if (on == state_->refusing) return;
    State& s = *state_;
    s.refusing = on;
    if (on) {
      s.acceptor.close();
      s.holder.open(boost::asio::ip::tcp::v4());
      // Accepted connections left TIME_WAIT on the port; SO_REUSEADDR lets
      // the holder bind past them (it never listens, so it accepts nothing).
      s.holder.set_option(boost::asio::socket_base::reuse_address(true));
      s.holder.bind(loopback(port_));
    } else {
      s.holder.close();
      s.acceptor.open(boost::asio::ip::tcp::v4());
      s.acceptor.set_option(boost::asio::socket_base::reuse_address(true));
      s.acceptor.bind(loopback(port_));
      s.acceptor.listen();
      boost::asio::co_spawn(s.acceptor.get_executor(), accept_loop(state_), boost::asio::detached);
    }
  }

 private:
  struct State {
    explicit State(boost::asio::io_context& io) : acceptor(bound_acceptor(io)), holder(io) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::ip::tcp::socket holder;  // keeps the port while refusing
    std::vector<net::HttpRequest> seen;
    Reply reply = [](const net::HttpRequest&) { return net::HttpResponse::json(200, "{}"); };
    std::chrono::milliseconds delay{0};
    bool close = false;
    bool refusing = false;
    bool stopped = false;
  };

  static constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<State> s) {
    for (;;) {
      auto [ec, socket] = co_await s->acceptor.async_accept(kTuple);
      if (ec || s->stopped) co_return;  // closed: by refuse() or the destructor
      boost::asio::co_spawn(s->acceptor.get_executor(), session(s, std::move(socket)), boost::asio::detached);
    }
  }

  static net::HttpRequest to_request(const boost::beast::http::request<boost::beast::http::string_body>& in,
                                     const boost::asio::ip::tcp::socket& socket) {
    net::HttpRequest r;
    r.method = std::string(in.method_string());
    r.target = std::string(in.target());
    const auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
    for (const auto& f : in) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = in.body();
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (!ec) r.remote = peer.address().to_string() + ":" + std::to_string(peer.port());
    return r;
  }

  static boost::asio::awaitable<void> session(std::shared_ptr<State> s, boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> in;
      auto [ec, n] = co_await http::async_read(socket, buffer, in, kTuple);
      if (ec || s->stopped) co_return;
      const net::HttpRequest req = to_request(in, socket);
      s->seen.push_back(req);
      if (s->close) co_return;  // the socket closes as the frame ends
      if (s->delay.count() > 0) {
        boost::asio::steady_timer t(socket.get_executor(), s->delay);
        co_await t.async_wait(kTuple);
        if (s->stopped) co_return;
      }
      const net::HttpResponse r = s->reply(req);
      http::response<http::string_body> out{static_cast<http::status>(r.status), in.version()};
      out.set(http::field::content_type, r.content_type);
      for (const auto& [name, value] : r.headers) out.set(name, value);
      out.body() = r.body;
      out.keep_alive(in.keep_alive());
      out.prepare_payload();
      auto [wec, wn] = co_await http::async_write(socket, out, kTuple);
      if (wec || !out.keep_alive()) co_return;
    }
  }

  std::shared_ptr<State> state_;
  unsigned short port_ = 0;
};

}  // namespace failover::test
