#pragma once
// The drill's clients: steady reads and writes of a few keys through the
// real path a user's request takes, each recorded for the history checker.
//
// One request: resolve the service's name through HTTPDNS (client::Resolver,
// which caches by TTL and fails over between HTTPDNS servers), pick one of
// the LB IPs at random, send; on a refused connection, a timeout or a
// 502/503/504, try the other IPs, then resolve again, until the request's
// deadline. A write carries one Idempotency-Key through every retry, so it
// is applied once whichever LB, instance and store node it reaches. That is
// what a client SDK does, so a request that fails here is one a user saw
// fail.
//
// Runs on one io_context thread; every call from that thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/resolver.h"
#include "core/async_event.h"
#include "core/clock.h"
#include "drill/history.h"
#include "net/http_client.h"

namespace failover::drill {

struct LoadOptions {
  std::vector<std::string> httpdns;  // host:port of every HTTPDNS server
  std::string host;                  // the service's name
  std::uint16_t port = 8080;         // the LBs' port (every LB listens on it)
  int clients = 4;
  int keys = 8;
  // Put before every key ("k3"): a run's keys are its own, so that values a
  // store kept from an earlier run are never read as this run's.
  std::string key_prefix;
  int write_percent = 30;
  std::chrono::milliseconds think{10};              // a client's pause between requests
  std::chrono::milliseconds attempt_timeout{1'500};  // one try at one LB
  std::chrono::milliseconds deadline{10'000};        // one request, every retry included
  std::uint64_t seed = 1;
};

// One second of the run, by when requests ended.
struct LoadSecond {
  std::uint64_t reads_ok = 0, reads_failed = 0, writes_ok = 0, writes_failed = 0;
};

struct FailedRequest {
  core::TimePoint start;
  core::TimePoint at;  // when the client gave up
  bool write = false;
  std::string key;
  std::string why;  // the last attempt's error
};

class Load {
 public:
  Load(boost::asio::any_io_executor executor, LoadOptions options,
       const core::Clock& clock = core::SteadyClock::instance());
  ~Load();

  void start();
  // Lets every client finish its request in flight, then reads every key
  // once more (the final reads, client "final": they find lost writes).
  boost::asio::awaitable<void> stop();

  core::TimePoint started() const { return t0_; }
  const std::vector<Operation>& history() const { return history_; }
  const std::vector<FailedRequest>& failures() const { return failures_; }
  const std::vector<LoadSecond>& timeline() const { return timeline_; }
  std::uint64_t reads() const { return reads_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t read_failures() const { return read_failures_; }
  std::uint64_t write_failures() const { return write_failures_; }
  // Requests that needed more than one try (another LB, or a wait).
  std::uint64_t retried() const { return retried_; }

 private:
  struct Sent;
  boost::asio::awaitable<Sent> send(net::ClientRequest req, std::uint64_t& rng_state);
  boost::asio::awaitable<void> client(int id);
  boost::asio::awaitable<void> read(const std::string& client, const std::string& key, std::uint64_t& rng);
  boost::asio::awaitable<void> write(const std::string& client, const std::string& key, std::string value,
                                     std::uint64_t& rng);
  LoadSecond& second_of(core::TimePoint t);

  boost::asio::any_io_executor executor_;
  LoadOptions o_;
  const core::Clock& clock_;
  client::Resolver resolver_;
  std::shared_ptr<net::HttpClient> http_;
  core::TimePoint t0_;
  bool stopping_ = false;
  int running_ = 0;
  core::AsyncCondition clients_done_{executor_};  // a client loop ended
  std::vector<Operation> history_;
  std::vector<FailedRequest> failures_;
  std::vector<LoadSecond> timeline_;
  std::uint64_t reads_ = 0, writes_ = 0, read_failures_ = 0, write_failures_ = 0, retried_ = 0;
};

}  // namespace failover::drill
