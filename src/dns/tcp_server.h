#pragma once
// DNS over TCP (RFC 7766): length-prefixed messages, several per
// connection, answered in order. For clients that got TC over UDP and for
// zone checks; the UDP path carries the load. Runs on the io_context it is
// given (the control thread's).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "dns/snapshot_cell.h"
#include "dns/stats.h"

namespace failover::dns {

struct TcpLimits {
  int max_connections = 512;
  // An idle connection is closed after this (RFC 7766 6.2.3: seconds, not minutes).
  std::chrono::milliseconds idle_timeout{10'000};
};

// Accepts on `endpoint` until `io` stops. Throws boost::system::system_error
// if it cannot bind. `zone` and `stats` must outlive `io`'s run.
void serve_dns_tcp(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                   const SnapshotCell& zone, QueryStats& stats, TcpLimits limits = {});

}  // namespace failover::dns
