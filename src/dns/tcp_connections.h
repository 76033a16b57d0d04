#pragma once
// Which DNS-over-TCP connections are open and which one to close to make
// room for a new one. Pure: no sockets, no clock of its own (every call that
// needs the time is given `now`), io thread only. The TCP server asks it at
// each accept and closes what it says.
//
// RFC 7766 6.2.3 and 10: a server at its limit should close idle
// connections, not refuse new ones. A client that opens hundreds of idle
// connections would otherwise lock every other client out of TCP, and TCP
// is how a resolver gets an answer too large for UDP (TC set). So a new
// connection evicts the connection idle the longest: of its own client when
// that client is at its limit, of anyone when the server is. Only when none
// of those is idle is the new one refused.
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/time.h"

namespace failover::dns {

class TcpConnectionTable {
 public:
  using Id = std::uint64_t;
  using Address = boost::asio::ip::address;

  // Both at least 1. A per-client limit above the total one never binds.
  TcpConnectionTable(std::size_t max_connections, std::size_t max_per_client)
      : max_connections_(max_connections), max_per_client_(max_per_client) {}

  struct Admission {
    bool accepted = false;
    Id id = 0;                  // when accepted: the new connection's, for the calls below
    std::optional<Id> evicted;  // when accepted: close this one; it has left the table
  };

  // A connection from `client` was accepted at `now`. It starts idle: it
  // has sent no query yet. Refused only when a limit is reached and no
  // connection that could make room is idle.
  Admission admit(const Address& client, core::TimePoint now);

  // A query started arriving on `id` (its first byte); it is not idle
  // until its last reply is written.
  void set_busy(Id id);
  // `id` has answered everything it read and waits for a length prefix.
  // One already idle keeps its older time.
  void set_idle(Id id, core::TimePoint now);
  // The connection closed. Ids not in the table (evicted ones) are ignored.
  void remove(Id id);

  // Out of descriptors: the connection idle the longest, of any client,
  // leaves the table so that its descriptor can be closed. Nothing when
  // none is idle.
  std::optional<Id> evict_oldest_idle();

  std::size_t size() const { return connections_.size(); }
  std::size_t count(const Address& client) const;
  std::size_t idle() const { return idle_.size(); }
  bool contains(Id id) const { return connections_.contains(id); }

 private:
  // Idle since, then id: ids grow, so among connections idle since the same
  // instant the older one comes first.
  using IdleKey = std::pair<core::TimePoint, Id>;
  struct Connection {
    Address client;
    std::optional<core::TimePoint> idle_since;  // nothing while a query is in progress
  };
  struct Client {
    std::size_t open = 0;
    std::set<IdleKey> idle;
  };

  static std::optional<Id> oldest_idle(const std::set<IdleKey>& idle);
  void erase(std::map<Id, Connection>::iterator it);

  std::size_t max_connections_;
  std::size_t max_per_client_;
  Id next_id_ = 1;
  std::map<Id, Connection> connections_;
  std::set<IdleKey> idle_;                 // every idle connection, oldest first
  std::map<Address, Client> clients_;      // only clients with a connection open
};

}  // namespace failover::dns
