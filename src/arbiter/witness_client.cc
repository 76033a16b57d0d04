#include "arbiter/witness_client.h"

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <variant>

#include "arbiter/witness_request.h"
#include "net/http_client.h"
#include "net/url.h"

namespace failover::arbiter {
namespace asio = boost::asio;

namespace {

// Errors where the request certainly never reached the server: nothing was
// sent, so nothing can have been applied.
bool never_sent(const boost::system::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
         ec == asio::error::network_unreachable || ec == asio::error::host_not_found ||
         ec == asio::error::host_not_found_try_again;
}

// One request with a deadline on `clock`. The HTTP client's own deadline
// (steady time) is the same length, a backstop should `clock` be manual.
asio::awaitable<core::Result<net::ClientResponse>> exchange(net::HttpClient& http, const core::Clock& clock,
                                                            const std::string& address, net::ClientRequest request,
                                                            std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  const std::string what = request.method + " " + address + request.target;
  // Named operands: GCC 12 mishandles some temporaries in a co_await expression.
  auto sent = http.request(address, std::move(request), timeout);
  auto expired = clock.sleep_until(clock.now() + timeout);
  std::variant<net::HttpResult, bool> first = co_await (std::move(sent) || std::move(expired));
  core::Result<net::ClientResponse> out;
  if (first.index() == 1) {
    out = core::Error::timeout(what + ": no answer within " + std::to_string(timeout.count()) + "ms");
  } else if (net::HttpResult& result = std::get<0>(first); result.ok()) {
    out = std::move(result.response);
  } else if (never_sent(result.ec)) {
    out = core::Error::unavailable(what + ": " + result.error);
  } else {
    out = core::Error::timeout(what + ": " + result.error);
  }
  co_return out;
}

}  // namespace

WitnessClient::WitnessClient(asio::any_io_executor executor, std::string address, std::chrono::milliseconds timeout,
                             const core::Clock& clock)
    : http_(std::make_unique<net::HttpClient>(executor)), address_(std::move(address)), timeout_(timeout),
      clock_(clock) {}

WitnessClient::~WitnessClient() = default;

asio::awaitable<core::Result<Record>> WitnessClient::read() {
  net::ClientRequest request;
  request.target = "/record";
  core::Result<net::ClientResponse> answer = co_await exchange(*http_, clock_, address_, std::move(request), timeout_);
  core::Result<Record> record;
  if (!answer) record = answer.error();
  else if (answer->status >= 500)
    record = core::Error::unavailable("witness " + address_ + " answered " + std::to_string(answer->status));
  else if (answer->status != 200)
    record = core::Error::invalid("witness " + address_ + " answered " + std::to_string(answer->status));
  else record = record_from_json(answer->body);
  co_return record;
}

asio::awaitable<CasAnswer> WitnessClient::compare_and_set(std::uint64_t expected_version, Record proposed) {
  net::ClientRequest request;
  request.method = "POST";
  request.target = "/record";
  request.body = cas_request_json({expected_version, proposed});
  core::Result<net::ClientResponse> answer = co_await exchange(*http_, clock_, address_, std::move(request), timeout_);
  CasAnswer out;
  if (!answer) {
    out.result = answer.error();
    co_return out;
  }
  const std::string who = "witness " + address_;
  switch (answer->status) {
    case 200: {
      // The witness applied exactly `proposed`; an unreadable echo still
      // means it was applied, so the caller reads rather than retries.
      core::Result<Record> applied = record_from_json(answer->body);
      if (applied && *applied == proposed) out.result = std::move(*applied);
      else out.result = core::Error::timeout(who + ": applied, but its answer is not the proposed record");
      break;
    }
    case 409: {
      core::Result<Record> current = parse_conflict_reply(answer->body);
      // Versions are never reused, so a record equal to ours is ours: our
      // request was applied and then sent again (a retry after a lost
      // answer), and the second copy found the first.
      if (current && *current == proposed) {
        out.result = std::move(*current);
        break;
      }
      if (current) out.current = *current;
      out.result = core::Error::conflict(who + ": the record is no longer at version " +
                                         std::to_string(expected_version));
      break;
    }
    case 400: out.result = core::Error::invalid(who + " refused: " + answer->body); break;
    default:
      // A 5xx may come from a witness that failed to make the record durable
      // and is stopping: whether it is on disk is not known.
      if (answer->status >= 500) out.result = core::Error::timeout(who + " answered " + std::to_string(answer->status));
      else out.result = core::Error::invalid(who + " answered " + std::to_string(answer->status));
  }
  co_return out;
}

asio::awaitable<core::Result<std::string>> http_get_body(asio::any_io_executor executor, std::string url,
                                                         std::string path, std::chrono::milliseconds timeout) {
  core::Result<std::string> body;
  const net::UrlResult parsed = net::parse_http_url(url);
  if (!parsed.ok()) {
    body = core::Error::invalid("bad URL \"" + url + "\": " + parsed.error);
    co_return body;
  }
  net::HttpClient http(executor);
  net::ClientRequest request;
  request.target = parsed.url.base_path + path;
  core::Result<net::ClientResponse> answer = co_await exchange(http, core::SteadyClock::instance(),
                                                               parsed.url.host_port, std::move(request), timeout);
  if (!answer) body = answer.error();
  else if (answer->status != 200) body = core::Error::invalid(url + path + " answered " + std::to_string(answer->status));
  else body = std::move(answer->body);
  co_return body;
}

}  // namespace failover::arbiter
