// The replication links between two nodes on loopback, with the manual
// clock standing still: a link that is down is tried again at once when the
// peer connects to us (a node coming back), messages flow both ways, each
// lane in its order, and garbage closes that connection and is counted.
#include "store/peer_links.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "support/manual_time.h"
#include "support/network.h"
#include "support/ports.h"

namespace failover::store {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Node {
  Node(asio::io_context& io, const core::Clock& clock, std::string name, std::string peer, std::string peer_address)
      : name(std::move(name)),
        links(io.get_executor(), clock, {{peer, std::move(peer_address)}}, std::chrono::hours(1),
              [this](Message m) { received.push_back(std::move(m)); },
              [this](const std::string& p) { connected.push_back(p); }) {}
  std::string name;
  std::vector<Message> received;
  std::vector<std::string> connected;
  PeerLinks links;
};

Message append_from(const std::string& from, std::uint64_t epoch) {
  Append a;
  a.epoch = epoch;
  a.from = from;
  return Message(a);
}

struct PeerLinksTest : ::testing::Test {
  core::ManualClock clock;  // never moved: a reconnect waits an hour
  asio::io_context io;
  bool settle(const std::function<bool()>& done) { return test::run_until(io, done, std::chrono::seconds(5)); }
};

TEST_F(PeerLinksTest, ADownLinkIsTriedAgainAtOnceWhenThePeerConnects) {
  const unsigned short port_a = test::free_port();
  std::optional<test::RefusingPort> b_port(std::in_place, io);  // b is not up yet: refused
  const unsigned short port_b = b_port->port();
  Node a(io, clock, "a", "b", test::host_port(port_b));
  a.links.listen(test::loopback(port_a));
  a.links.start();
  // a's first connect is refused; its next try is an hour away.
  ASSERT_TRUE(settle([&] { return a.links.stats().at("b").connects == 0 && clock.sleepers() > 0; }));
  EXPECT_FALSE(a.links.stats().at("b").connected);

  // b comes up and connects to a: a tries its link to b now, not in an hour.
  b_port.reset();
  Node b(io, clock, "b", "a", test::host_port(port_a));
  b.links.listen(test::loopback(port_b));
  b.links.start();
  // One connection for each lane (store/messages.h, Lane).
  ASSERT_TRUE(settle([&] { return a.connected.size() == 2 && b.connected.size() == 2; }));
  EXPECT_EQ(a.connected, (std::vector<std::string>{"b", "b"}));
  EXPECT_EQ(b.connected, (std::vector<std::string>{"a", "a"}));
  EXPECT_TRUE(a.links.stats().at("b").connected);

  a.links.send("b", append_from("a", 3));
  b.links.send("a", append_from("b", 4));
  ASSERT_TRUE(settle([&] { return a.received.size() == 1 && b.received.size() == 1; }));
  EXPECT_EQ(std::get<Append>(b.received[0]).epoch, 3u);
  EXPECT_EQ(std::get<Append>(a.received[0]).from, "b");
  a.links.stop();
  b.links.stop();
  io.restart();
  io.poll();
}

// A peer that dies is seen at once (its connection closes; we write
// nothing to it meanwhile), so its return wakes our link: before, the link
// looked connected until a write failed, and a failback waited for the next
// reconnect.
TEST_F(PeerLinksTest, APeerThatDiesIsSeenWithoutAWriteAndItsReturnReconnectsAtOnce) {
  const unsigned short port_a = test::free_port();
  const unsigned short port_b = test::free_port();
  Node a(io, clock, "a", "b", test::host_port(port_b));
  a.links.listen(test::loopback(port_a));
  a.links.start();
  auto b = std::make_unique<Node>(io, clock, "b", "a", test::host_port(port_a));
  b->links.listen(test::loopback(port_b));
  b->links.start();
  ASSERT_TRUE(settle([&] { return a.connected.size() == 2 && a.links.stats().at("b").connected; }));

  b->links.stop();  // its sockets close, as a killed process's do
  ASSERT_TRUE(settle([&] { return !a.links.stats().at("b").connected; }));

  b = std::make_unique<Node>(io, clock, "b", "a", test::host_port(port_a));
  b->links.listen(test::loopback(port_b));
  b->links.start();
  // The clock stands still: only b's connection can have woken a's link.
  ASSERT_TRUE(settle([&] { return a.connected.size() == 4 && a.links.stats().at("b").connected; }));
  a.links.send("b", append_from("a", 5));
  ASSERT_TRUE(settle([&] { return b->received.size() == 1; }));
  a.links.stop();
  b->links.stop();
  io.restart();
  io.poll();
}

// Entries go on the data lane, the rest on the control lane: a frame still
// being encoded (send_later) holds up the data lane behind it, in order, and
// never the control lane's beacons.
TEST_F(PeerLinksTest, AFrameStillBeingEncodedHoldsUpItsLaneOnly) {
  const unsigned short port_a = test::free_port();
  const unsigned short port_b = test::free_port();
  Node a(io, clock, "a", "b", test::host_port(port_b));
  Node b(io, clock, "b", "a", test::host_port(port_a));
  a.links.listen(test::loopback(port_a));
  b.links.listen(test::loopback(port_b));
  a.links.start();
  b.links.start();
  ASSERT_TRUE(settle([&] { return a.links.stats().at("b").connected && b.links.stats().at("a").connected; }));

  auto with_entry = [](std::uint64_t epoch) {
    Append m = std::get<Append>(append_from("a", epoch));
    m.entries.push_back(Entry{epoch, 1, Op::kPut, "k", "v", ""});
    return m;
  };
  PeerLinks::Fill fill = a.links.send_later("b", Lane::kData);
  a.links.send("b", with_entry(5));        // data lane: waits behind the place kept
  a.links.send("b", append_from("a", 6));  // a beacon: control lane
  ASSERT_TRUE(settle([&] { return b.received.size() == 1; }));
  EXPECT_EQ(std::get<Append>(b.received[0]).epoch, 6u);

  std::string frame;
  encode(frame, Message(with_entry(4)));
  fill(std::move(frame));
  ASSERT_TRUE(settle([&] { return b.received.size() == 3; }));
  EXPECT_EQ(std::get<Append>(b.received[1]).epoch, 4u);
  EXPECT_EQ(std::get<Append>(b.received[2]).epoch, 5u);
  a.links.stop();
  b.links.stop();
  io.restart();
  io.poll();
}

TEST_F(PeerLinksTest, NoPlaceIsKeptOnALinkThatIsDown) {
  // The caller then encodes nothing (a 64 MiB frame is 200 ms of a worker).
  Node a(io, clock, "a", "b", test::RefusingPort(io).host_port());
  a.links.start();
  EXPECT_FALSE(a.links.send_later("b", Lane::kData));
  EXPECT_FALSE(a.links.send_later("nobody", Lane::kData));
  EXPECT_EQ(a.links.stats().at("b").frames_dropped, 1u);
  a.links.stop();
  io.restart();
  io.poll();
}

TEST_F(PeerLinksTest, GarbageClosesThatConnectionAndIsCounted) {
  const unsigned short port_a = test::free_port();
  Node a(io, clock, "a", "b", test::RefusingPort(io).host_port());
  a.links.listen(test::loopback(port_a));
  a.links.start();
  asio::ip::tcp::socket s(io);
  s.connect(test::loopback(port_a));
  const std::string junk(64, '\xff');
  asio::write(s, asio::buffer(junk));
  ASSERT_TRUE(settle([&] { return a.links.bad_frames() == 1; }));
  EXPECT_TRUE(a.received.empty());
  a.links.stop();
  io.restart();
  io.poll();
}

}  // namespace
}  // namespace failover::store
