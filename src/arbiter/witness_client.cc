#include "arbiter/witness_client.h"


#include "arbiter/witness_request.h"
#include "net/http_client.h"
#include "net/url.h"

namespace failover::arbiter {
namespace asio = boost::asio;

namespace {

// One request with a deadline on `clock`: the HTTP client decides the
// timeout on it and says whether the request may have been sent
// (kUnavailable: certainly not; kTimeout: maybe), which is what a
// compare-and-set's caller needs to know.
asio::awaitable<core::Result<net::ClientResponse>> exchange(net::HttpClient& http, const std::string& address,
                                                            net::ClientRequest request,
                                                            std::chrono::milliseconds timeout) {
  const std::string what = request.method + " " + address + request.target;
  core::Result<net::ClientResponse> answer = co_await http.request(address, std::move(request), timeout);
  if (answer.ok()) co_return answer;
  core::Error e = answer.error();
  e.message = what + ": " + e.message;
  if (e.code == core::ErrorCode::kInvalid) e.code = core::ErrorCode::kUnavailable;  // a bad address: never sent
  if (e.code == core::ErrorCode::kCancelled) e.code = core::ErrorCode::kTimeout;     // may have been sent
  core::Result<net::ClientResponse> out = std::move(e);
  co_return out;
}

}  // namespace

WitnessClient::WitnessClient(asio::any_io_executor executor, std::string address, std::chrono::milliseconds timeout,
                             const core::Clock& clock)
    : http_(std::make_unique<net::HttpClient>(executor, net::HttpClientOptions{}, clock)), address_(std::move(address)), timeout_(timeout),
      clock_(clock) {}

WitnessClient::~WitnessClient() = default;

asio::awaitable<core::Result<Record>> WitnessClient::read() {
  net::ClientRequest request;
  request.target = "/record";
  core::Result<net::ClientResponse> answer = co_await exchange(*http_, address_, std::move(request), timeout_);
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
  core::Result<net::ClientResponse> answer = co_await exchange(*http_, address_, std::move(request), timeout_);
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
  const core::Result<net::HttpUrl> parsed = net::parse_http_url(url);
  if (!parsed.ok()) {
    body = core::Error::invalid("bad URL \"" + url + "\": " + parsed.error().message);
    co_return body;
  }
  net::HttpClient http(executor);
  net::ClientRequest request;
  request.target = parsed->base_path + path;
  core::Result<net::ClientResponse> answer = co_await exchange(http, parsed->host_port, std::move(request), timeout);
  if (!answer) body = answer.error();
  else if (answer->status != 200) body = core::Error::invalid(url + path + " answered " + std::to_string(answer->status));
  else body = std::move(answer->body);
  co_return body;
}

}  // namespace failover::arbiter
