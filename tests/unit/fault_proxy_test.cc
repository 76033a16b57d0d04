#include "drill/fault_proxy.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <string>

#include "core/clock.h"
#include "support/manual_time.h"
#include "support/network.h"
#include "support/ports.h"

namespace failover::drill {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// The far end: counts connections, keeps what it received, and answers
// every chunk with "<" + chunk.
struct Upstream {
  explicit Upstream(asio::io_context& io) : acceptor(io, test::loopback(0)) {
    asio::co_spawn(io, accept(), asio::detached);
  }
  asio::awaitable<void> accept() {
    while (true) {
      auto [ec, s] = co_await acceptor.async_accept(kTuple);
      if (ec) co_return;
      ++connections;
      asio::co_spawn(acceptor.get_executor(), serve(std::make_shared<tcp::socket>(std::move(s))), asio::detached);
    }
  }
  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> s) {
    std::string buf(4096, '\0');
    while (true) {
      auto [ec, n] = co_await s->async_read_some(asio::buffer(buf), kTuple);
      if (ec) {
        ++closed;
        co_return;
      }
      received += buf.substr(0, n);
      co_await asio::async_write(*s, asio::buffer("<" + buf.substr(0, n)), kTuple);
    }
  }
  std::string address() const { return test::host_port(acceptor.local_endpoint().port()); }
  tcp::acceptor acceptor;
  int connections = 0, closed = 0;
  std::string received;
};

// A client with a blocking connect and write (the kernel completes both on
// loopback) and an asynchronous read, driven by the test's io_context. Shared
// with its read, which may complete after the test let go of it.
struct Client {
  explicit Client(asio::io_context& io) : socket(io) {}
  void write(const std::string& s) { asio::write(socket, asio::buffer(s)); }
  tcp::socket socket;
  std::string got;
  boost::system::error_code error;
};

asio::awaitable<void> read_into(std::shared_ptr<Client> c) {
  std::string buf(4096, '\0');
  while (true) {
    auto [ec, n] = co_await c->socket.async_read_some(asio::buffer(buf), kTuple);
    if (ec) {
      c->error = ec;
      co_return;
    }
    c->got += buf.substr(0, n);
  }
}

std::shared_ptr<Client> connect(asio::io_context& io, unsigned short port) {
  auto c = std::make_shared<Client>(io);
  c->socket.connect(test::loopback(port));
  asio::co_spawn(io, read_into(c), asio::detached);
  return c;
}

struct FaultProxyTest : ::testing::Test {
  FaultProxyTest() : upstream(io), proxy(io.get_executor(), clock, upstream.address(), 7) {
    proxy.listen(test::loopback(0));
    proxy.start();
  }
  ~FaultProxyTest() override {
    proxy.stop();
    io.restart();
    io.poll();
  }
  unsigned short port() const { return proxy.local_endpoint().port(); }
  // Real I/O for a while, the clock standing still.
  bool settle(const std::function<bool()>& done, std::chrono::milliseconds limit = 2s) {
    return test::run_until(io, done, limit);
  }
  void fault(const char* text) { proxy.set(*parse_fault(text)); }
  // A connection that has carried "a" there and "<a" back.
  std::shared_ptr<Client> working_connection() {
    auto c = connect(io, port());
    c->write("a");
    EXPECT_TRUE(settle([&] { return c->got == "<a"; })) << "no echo through the proxy";
    return c;
  }
  // `c` ends with a reset (not a FIN, not a hang).
  void expect_reset(const std::shared_ptr<Client>& c) {
    EXPECT_TRUE(settle([&] { return c->error.failed(); })) << "no answer at all";
    EXPECT_EQ(c->error, asio::error::connection_reset);
  }

  core::ManualClock clock;  // outlives the io_context whose coroutines sleep on it
  asio::io_context io;
  Upstream upstream;
  FaultProxy proxy;
};

TEST_F(FaultProxyTest, PassesBytesBothWays) {
  auto c = connect(io, port());
  c->write("hello");
  ASSERT_TRUE(settle([&] { return c->got == "<hello"; }));
  EXPECT_EQ(upstream.received, "hello");
  EXPECT_EQ(proxy.stats().bytes_to_upstream, 5u);
  EXPECT_EQ(proxy.stats().bytes_to_client, 6u);
  EXPECT_EQ(proxy.stats().open, 1u);
}

TEST_F(FaultProxyTest, DelayHoldsEachChunkEachWayForTheDelay) {
  fault("delay 100ms");
  auto c = connect(io, port());
  c->write("ping");
  EXPECT_FALSE(settle([&] { return !upstream.received.empty(); }, 200ms)) << "passed with no time gone";
  test::run_for(io, clock, 99ms);
  EXPECT_FALSE(settle([&] { return !upstream.received.empty(); }, 100ms)) << "passed before the delay";
  test::run_for(io, clock, 1ms);
  ASSERT_TRUE(settle([&] { return upstream.received == "ping"; }));
  // The answer is delayed on its way back too.
  EXPECT_FALSE(settle([&] { return !c->got.empty(); }, 200ms));
  test::run_for(io, clock, 100ms);
  ASSERT_TRUE(settle([&] { return c->got == "<ping"; }));
  // Lifted: the next chunk passes at once.
  fault("none");
  c->write("!");
  EXPECT_TRUE(settle([&] { return c->got == "<ping<!"; }));
}

TEST_F(FaultProxyTest, AFastSenderBehindALongDelayIsHeldBackNotBuffered) {
  fault("delay 10m");
  auto c = connect(io, port());
  c->socket.non_blocking(true);
  const std::string chunk(1 << 20, 'x');
  std::size_t sent = 0;
  for (int round = 0; round < 64; ++round) {
    boost::system::error_code ec;
    while (!ec && sent < (64u << 20)) sent += c->socket.write_some(asio::buffer(chunk), ec);
    settle([] { return false; }, 20ms);  // the proxy reads what it will take
  }
  // The proxy holds at most 4 MiB; the rest is what the kernel buffers on
  // the way (a few MiB on loopback), far from the 64 MiB offered.
  EXPECT_LT(sent, 24u << 20) << "the proxy kept reading behind the delay";
  EXPECT_TRUE(upstream.received.empty());
}

TEST_F(FaultProxyTest, BlackholeLooksLikeAHangAndResumesWhenLifted) {
  auto old = working_connection();
  fault("blackhole");
  auto fresh = connect(io, port());  // the kernel accepts it; nothing more happens
  old->write("b");
  fresh->write("c");
  EXPECT_FALSE(settle([&] { return upstream.received.size() > 1 || upstream.connections > 1; }, 300ms));
  test::run_for(io, clock, 10s);
  EXPECT_FALSE(settle([&] { return old->error || fresh->error || old->got.size() > 2; }, 100ms))
      << "a blackhole answered: " << old->error.message() << " / " << fresh->error.message();
  fault("none");
  ASSERT_TRUE(settle([&] { return old->got == "<a<b" && fresh->got == "<c"; }));
  EXPECT_EQ(upstream.connections, 2);
}

TEST_F(FaultProxyTest, HalfOpenLooksOpenUntilTheClientWritesThenResets) {
  auto c = working_connection();
  fault("half-open");
  // Waiting for an answer: nothing comes, not even a FIN.
  EXPECT_FALSE(settle([&] { return c->error.failed(); }, 300ms)) << c->error.message();
  c->write("b");
  expect_reset(c);
  EXPECT_EQ(upstream.received, "a");
  // A new connection is reset at once.
  expect_reset(connect(io, port()));
  EXPECT_EQ(proxy.stats().reset, 2u);
}

TEST_F(FaultProxyTest, DropOneCutsOpenAndNewConnections) {
  auto c = working_connection();
  fault("drop 1");
  expect_reset(c);
  expect_reset(connect(io, port()));
  ASSERT_TRUE(settle([&] { return upstream.closed == 1; }));
  EXPECT_EQ(upstream.connections, 1);
}

TEST_F(FaultProxyTest, DropAShareResetsThatShareOfNewConnectionsOnly) {
  auto open = working_connection();
  fault("drop 0.5");
  std::vector<std::shared_ptr<Client>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(connect(io, port()));
    clients.back()->write("x");
  }
  auto answered = [&] {
    int n = 0;
    for (auto& c : clients) n += c->got == "<x" || c->error.failed();
    return n;
  };
  ASSERT_TRUE(settle([&] { return answered() == 40; }));
  int reset = 0;
  for (auto& c : clients) reset += c->error == asio::error::connection_reset;
  EXPECT_GT(reset, 8);
  EXPECT_LT(reset, 32);
  EXPECT_EQ(upstream.connections, 1 + 40 - reset);
  open->write("b");  // the open connection was not touched
  EXPECT_TRUE(settle([&] { return open->got == "<a<b"; }));
}

TEST_F(FaultProxyTest, ARefusingUpstreamResetsTheClient) {
  test::RefusingPort refusing(io);
  FaultProxy to_nothing(io.get_executor(), clock, refusing.host_port());
  to_nothing.listen(test::loopback(0));
  to_nothing.start();
  auto c = connect(io, to_nothing.local_endpoint().port());
  ASSERT_TRUE(settle([&] { return c->error.failed(); }));
  EXPECT_EQ(c->error, asio::error::connection_reset);
  EXPECT_EQ(to_nothing.stats().upstream_failures, 1u);
  to_nothing.stop();
}

TEST_F(FaultProxyTest, HalfClosePassesThrough) {
  auto c = connect(io, port());
  c->write("bye");
  c->socket.shutdown(tcp::socket::shutdown_send);
  // The upstream answers, then sees the end of the stream and closes; the
  // client gets the answer and then the end.
  ASSERT_TRUE(settle([&] { return c->error.failed(); }));
  EXPECT_EQ(c->got, "<bye");
  EXPECT_EQ(c->error, asio::error::eof);
  EXPECT_TRUE(settle([&] { return proxy.stats().open == 0; }));
}

}  // namespace
}  // namespace failover::drill
