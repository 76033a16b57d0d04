#include "lb/proxy_request.h"

#include <boost/asio/write.hpp>
#include <charconv>

#include "core/clock.h"
#include "lb/retry.h"
#include "lb/worker.h"

namespace failover::lb {

namespace asio = boost::asio;
namespace http1 = net::http1;
using asio::ip::tcp;

namespace {


const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

// Adds "name: value" to a written head: the blank line moves after it.
void add_field(std::string& head, std::string_view name, std::string_view value) {
  head.resize(head.size() - 2);
  head.append(name).append(": ").append(value).append("\r\n\r\n");
}

// Frames a buffered body with Content-Length.
void add_content_length(std::string& head, std::size_t length) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, length);
  add_field(head, "Content-Length", std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

bool method_has_body(std::string_view m) { return m == "POST" || m == "PUT" || m == "PATCH"; }

std::string too_large(const LimitsConfig& limits) {
  return "request body over " + std::to_string(limits.max_body_size) + " bytes";
}

}  // namespace

Session::Session(Worker& w, tcp::socket socket)
    : worker(w), client(std::move(socket)), deadline(client.get_executor(), [this] {
        boost::system::error_code ec;
        client.cancel(ec);
        if (upstream) upstream->cancel(ec);
      }) {
  boost::system::error_code ec;
  client.set_option(tcp::no_delay(true), ec);
  const auto remote = client.remote_endpoint(ec);
  client_ip = ec ? "unknown" : remote.address().to_string();
}

void append_error_response(int status, std::string_view why, bool keep_alive, std::string& out) {
  const std::string body = std::to_string(status) + " " + reason_phrase(status) + ": " +
                           std::string(why) + "\n";
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason_phrase(status));
  out.append("\r\nServer: failover\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ");
  out.append(std::to_string(body.size())).append("\r\n");
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("\r\n").append(body);
}

asio::awaitable<ReadOutcome> read_request(Session& s, const LimitsConfig& limits,
                                          const Snapshot& snapshot, Request& req) {
  ReadOutcome out;
  s.stream = {};
  s.client_failed = false;
  s.client_error = 0;
  auto fail = [&out](int status, std::string why) {
    out.status = status;
    out.why = std::move(why);
    return out;
  };
  if (s.in.empty()) {
    // Idle between requests: closing quietly is not an error.
    if (s.worker.draining()) co_return fail(kClosedQuietly, "");
    s.deadline.expires_after(limits.keepalive_timeout);
    s.worker.idle_begin(&s.client);
    auto room = s.in.prepare(kReadSize);
    auto [ec, n] = co_await s.client.async_read_some(asio::buffer(room.data(), room.size()), kTuple);
    s.worker.idle_end(&s.client);
    if (ec) co_return fail(kClosedQuietly, "");
    s.in.commit(n);
  }
  out.started = core::SteadyClock::instance().now();
  s.deadline.expires_after(limits.header_timeout);
  http1::RequestHead& head = s.request_head;
  for (;;) {
    http1::Error error = http1::Error::kNone;
    const auto r = http1::parse_request(
        s.in.data(), {limits.max_header_size, static_cast<std::size_t>(limits.max_headers)}, head,
        error);
    if (r == http1::Parse::kDone) break;
    if (r == http1::Parse::kError) co_return fail(http1::request_error_status(error), http1::error_message(error));
    auto room = s.in.prepare(kReadSize);
    auto [ec, n] = co_await s.client.async_read_some(asio::buffer(room.data(), room.size()), kTuple);
    if (ec) {
      if (s.deadline.expired()) co_return fail(408, "request headers not received in time");
      co_return fail(kClosedQuietly, "");
    }
    s.in.commit(n);
  }

  // Take what we need from the head while its views are valid: reading the
  // body may move the buffer under them.
  req.method.assign(head.method);
  req.version_minor = head.version_minor;
  req.is_head = head.method == "HEAD";
  req.idempotent = idempotent(head.method);
  req.keep_alive = head.keep_alive;
  req.upgrade = head.upgrade;
  out.upstream = snapshot.route(head.host, head.target);
  const auto content_length = head.content_length;
  const bool chunked = head.chunked;
  const bool expect_continue = head.expect_continue;
  req.head.clear();
  http1::write_request_head(head, s.client_ip, std::nullopt, req.upgrade, req.head);
  s.in.consume(head.head_size);

  req.body.clear();
  req.sent_continue = false;
  if (content_length && *content_length > limits.max_body_size) co_return fail(413, too_large(limits));
  if (expect_continue && (chunked || content_length.value_or(0) > 0)) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    co_await asio::async_write(s.client, asio::buffer(kContinue), kTuple);
    req.sent_continue = true;
  }
  s.deadline.expires_after(limits.body_timeout);
  if (content_length && *content_length > kRetainedBody) {
    s.stream.active = true;  // streamed once a server is chosen
    s.stream.remaining = *content_length;
    add_content_length(req.head, *content_length);
    co_return out;
  }
  if (content_length) {
    const std::size_t want = *content_length;
    const std::size_t take = std::min(want, s.in.size());
    req.body.assign(s.in.data().substr(0, take));
    s.in.consume(take);
    while (req.body.size() < want) {
      const std::size_t have = req.body.size();
      req.body.resize(want);
      auto [ec, n] = co_await s.client.async_read_some(asio::buffer(req.body.data() + have, want - have), kTuple);
      req.body.resize(have + n);
      if (ec) co_return fail(s.deadline.expired() ? 408 : kClosedQuietly, "request body not received in time");
    }
  } else if (chunked) {
    // Keep the chunks as they come; a body that ends within kRetainedBody is
    // decoded and sent with Content-Length (so it can be retried), a longer
    // one is streamed with its chunked framing.
    // The scanner refuses a chunk size that passes max_body_size as soon as
    // its line ends, so a client declaring a huge chunk is not kept waiting.
    http1::ChunkedScanner scanner(limits.max_body_size);
    s.raw_body.clear();
    for (;;) {
      http1::Error error = http1::Error::kNone;
      const std::size_t n = scanner.scan(s.in.data(), error);
      s.raw_body.append(s.in.data().substr(0, n));
      s.in.consume(n);
      if (error == http1::Error::kBodyTooLarge) co_return fail(413, too_large(limits));
      if (error != http1::Error::kNone) co_return fail(400, http1::error_message(error));
      if (scanner.done()) break;
      if (s.raw_body.size() > kRetainedBody) {
        if (s.raw_body.size() > chunked_wire_limit(limits)) co_return fail(413, too_large(limits));
        req.body.swap(s.raw_body);
        s.stream.active = true;
        s.stream.chunked = true;
        s.stream.scanner = scanner;
        s.stream.limit = chunked_wire_limit(limits) - req.body.size();
        add_field(req.head, "Transfer-Encoding", "chunked");
        co_return out;
      }
      auto room = s.in.prepare(kReadSize);
      auto [ec, n2] = co_await s.client.async_read_some(asio::buffer(room.data(), room.size()), kTuple);
      if (ec) co_return fail(s.deadline.expired() ? 408 : kClosedQuietly, "request body not received in time");
      s.in.commit(n2);
    }
    http1::ChunkedDecoder decoder(limits.max_body_size);
    std::size_t used = 0;
    http1::Error error = http1::Error::kNone;
    const auto d = decoder.decode(s.raw_body, req.body, used, error);
    if (d == http1::Decode::kTooLarge) co_return fail(413, too_large(limits));
    if (d != http1::Decode::kDone) co_return fail(400, http1::error_message(error));
  }
  if (!req.upgrade && (!req.body.empty() || method_has_body(req.method)))
    add_content_length(req.head, req.body.size());
  co_return out;
}

BodyFraming BodyFraming::of(const http1::ResponseHead& head, bool head_request) {
  BodyFraming f;
  if (head_request || head.status < 200 || head.status == 204 || head.status == 304) f.kind_ = Kind::kNone;
  else if (head.chunked) f.kind_ = Kind::kChunked;
  else if (head.content_length) { f.kind_ = Kind::kLength; f.remaining_ = *head.content_length; }
  else f.kind_ = Kind::kUntilClose;
  return f;
}

std::size_t BodyFraming::take(std::string_view available, http1::Error& error, std::string* decoded) {
  switch (kind_) {
    case Kind::kNone: return 0;
    case Kind::kLength: {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, available.size()));
      remaining_ -= n;
      return n;
    }
    case Kind::kChunked: return scanner_.scan(available, error);
    case Kind::kDechunk: {
      std::size_t used = 0;
      const auto d = decoder_.decode(available, *decoded, used, error);
      decoded_all_ = d == http1::Decode::kDone;
      return used;
    }
    case Kind::kUntilClose: return available.size();
  }
  return 0;
}

bool BodyFraming::done() const {
  switch (kind_) {
    case Kind::kNone: return true;
    case Kind::kLength: return remaining_ == 0;
    case Kind::kChunked: return scanner_.done();
    case Kind::kDechunk: return decoded_all_;
    case Kind::kUntilClose: return false;
  }
  return true;
}

}  // namespace failover::lb
