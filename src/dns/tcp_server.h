#pragma once
// DNS over TCP (RFC 7766): length-prefixed messages, several per
// connection, answered in order. For clients that got TC over UDP and for
// zone checks; the UDP path carries the load. Runs on the io_context it is
// given (the control thread's).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "dns/config.h"
#include "dns/snapshot_cell.h"
#include "dns/stats.h"

namespace failover::dns {

// Accepts on `endpoint` until `io` stops, within `limits`: at a limit the
// connection idle the longest makes room (dns/tcp_connections.h). Throws
// boost::system::system_error if it cannot bind. `zone`, `stats` and
// `connections` must outlive `io`'s run; `connections` is written on `io`'s
// thread only.
void serve_dns_tcp(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                   const SnapshotCell& zone, const TcpLimits& limits, QueryStats& stats,
                   TcpConnectionStats& connections);

}  // namespace failover::dns
