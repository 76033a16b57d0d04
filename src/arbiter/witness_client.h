#pragma once
// The store node's side of the witness: the Arbiter interface over HTTP
// (GET /record, POST /record; docs/witness.md).
//
// Every call has one deadline, `timeout`, timed on the injected clock. How
// failures map (arbiter.h says what each code means to the caller):
//   connection refused, host or network unreachable, name not resolved
//                                  -> kUnavailable (the request was never sent)
//   anything after the request may have been sent (deadline, reset, a
//   closed connection, a 5xx)      -> kTimeout (maybe applied)
//   409 -> kConflict with `current`, except when `current` is the proposed
//   record itself (a retried CAS that had been applied): success;
//   400 -> kInvalid with the witness's reason.
//
// Threads: as net::HttpClient, every call from the thread of `executor`.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "arbiter/arbiter.h"
#include "core/clock.h"

namespace failover::net {
class HttpClient;
}

namespace failover::arbiter {

class WitnessClient final : public Arbiter {
 public:
  // `address`: the witness's host:port. `clock` must outlive the client.
  WitnessClient(boost::asio::any_io_executor executor, std::string address, std::chrono::milliseconds timeout,
                const core::Clock& clock = core::SteadyClock::instance());
  ~WitnessClient() override;

  boost::asio::awaitable<core::Result<Record>> read() override;
  boost::asio::awaitable<CasAnswer> compare_and_set(std::uint64_t expected_version, Record proposed) override;

  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<net::HttpClient> http_;
  std::string address_;
  std::chrono::milliseconds timeout_;
  const core::Clock& clock_;
};

// GET `url` (http://host:port[/prefix]) + `path`, for `failover witness
// recover` (a node's /status): the body of a 200, kInvalid for a bad URL or
// another status, kUnavailable/kTimeout as above. Here so that all of the
// arbiter's HTTP client calls live in one file.
boost::asio::awaitable<core::Result<std::string>> http_get_body(boost::asio::any_io_executor executor,
                                                                std::string url, std::string path,
                                                                std::chrono::milliseconds timeout);

}  // namespace failover::arbiter
