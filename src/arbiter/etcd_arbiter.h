#pragma once
// The record kept in an etcd key, for users who already run etcd across
// machines (`arbiter: {type: etcd, endpoints: [...], key: /failover/store/NAME}`).
// The key holds the record's JSON (record.h); every change is a
// transaction on the key's mod_revision (etcd::Client::put_if), and
// check_transition() is enforced here, before the transaction, as the
// witness enforces it on its side. No etcd lease: etcd counts leases in
// whole seconds, and the record needs none.
//
// The first read of a missing key creates the record of a new cluster (as
// the witness does on its first start); a node that already knows another
// cluster_id refuses it, as it refuses a witness that lost its state.
//
// Errors as arbiter.h says: etcd unreachable -> kUnavailable; no answer in
// time -> kTimeout (maybe applied: read() to learn); a transaction that
// lost -> kConflict with the record that won; a resent transaction that had
// in fact landed is found by reading the key back, and is a success.
//
// Threads: as etcd::Client, every call from the thread of `executor`.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/arbiter.h"

namespace failover::etcd {
class Client;
}

namespace failover::arbiter {

class EtcdArbiter final : public Arbiter {
 public:
  // `endpoints`: http://host:port of etcd's members. Throws
  // std::invalid_argument for a malformed one (start-up).
  EtcdArbiter(boost::asio::any_io_executor executor, std::vector<std::string> endpoints, std::string key,
              std::chrono::milliseconds timeout);
  ~EtcdArbiter() override;

  boost::asio::awaitable<core::Result<Record>> read() override;
  boost::asio::awaitable<CasAnswer> compare_and_set(std::uint64_t expected_version, Record proposed) override;

 private:
  struct Held {  // the record as last read or written, with its key's mod_revision
    Record record;
    std::int64_t mod_revision = 0;
  };
  boost::asio::awaitable<core::Result<Held>> read_held();

  std::unique_ptr<etcd::Client> etcd_;
  std::string key_;
  // As last read or written here: a compare-and-set of that version needs
  // no read first (the nodes read the record before they change it). If
  // someone wrote since, the transaction says so.
  std::optional<Held> last_;
};

}  // namespace failover::arbiter
