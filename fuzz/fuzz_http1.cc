// The proxy's own HTTP/1.1 code on hostile bytes. Whatever a peer sends,
// a head we accept must be written out as one that parses again to the same
// message with no hop-by-hop field, parsing must not depend on how the bytes
// were cut, and a chunked body must end at the same byte however it arrives.
#include <cstdlib>
#include <string>

#include "net/http1.h"

namespace {

namespace http1 = failover::net::http1;
using http1::Error;
using http1::Parse;

constexpr std::size_t kMaxHead = 16 * 1024;

void check(bool ok) {
  if (!ok) std::abort();
}

// Invariants of any parse result over `in`.
void check_head(std::string_view in, Parse p, Error e, const http1::MessageHead& h) {
  check((p == Parse::kError) == (e != Error::kNone));
  if (p == Parse::kIncomplete) check(in.size() <= kMaxHead);
  if (p != Parse::kDone) return;
  check(h.head_size >= 4 && h.head_size <= in.size() && h.head_size <= kMaxHead);
  check(in.substr(h.head_size - 4, 4) == "\r\n\r\n");
  check(!(h.chunked && h.content_length));
  check(h.headers.size() <= http1::kDefaultMaxHeaders);
  for (const auto& f : h.fields()) {
    check(!f.name.empty() && f.name.data() >= in.data());
    check(f.value.data() + f.value.size() <= in.data() + h.head_size);
  }
}

// Hop-by-hop fields the writers must never pass on.
bool has_hop_by_hop(const http1::MessageHead& h, bool allow_upgrade) {
  for (const char* name : {"keep-alive", "proxy-connection", "te", "trailer", "proxy-authorization",
                           "proxy-authenticate"})
    if (http1::find_header(h, name) != nullptr) return true;
  return !allow_upgrade && http1::find_header(h, "upgrade") != nullptr;
}

void check_request(std::string_view in) {
  http1::RequestHead req;
  Error e;
  const Parse p = http1::parse_request(in, kMaxHead, req, e);
  check_head(in, p, e, req);
  if (p != Parse::kDone) return;

  // One byte short of the head is only incomplete, and the head alone parses the same.
  http1::RequestHead part;
  check(http1::parse_request(in.substr(0, req.head_size - 1), kMaxHead, part, e) ==
        Parse::kIncomplete);
  check(http1::parse_request(in.substr(0, req.head_size), kMaxHead, part, e) == Parse::kDone);
  check(part.head_size == req.head_size && part.headers.size() == req.headers.size() &&
        part.keep_alive == req.keep_alive && part.content_length == req.content_length);

  const std::optional<std::uint64_t> body =
      req.chunked ? std::optional<std::uint64_t>(7) : req.content_length;
  std::string out;
  http1::write_request_head(req, "192.0.2.1", body, req.upgrade, out);
  http1::RequestHead back;
  const Parse again = http1::parse_request(out, out.size(), back, e);
  // The writer adds up to five fields; past the limit that is the only excuse.
  if (again == Parse::kError && e == Error::kTooManyHeaders &&
      req.headers.size() + 5 > http1::kDefaultMaxHeaders)
    return;
  check(again == Parse::kDone && back.head_size == out.size());
  // Host always goes through, even when the client named it in Connection.
  check(back.method == req.method && back.target == req.target && back.host == req.host);
  check(back.version_minor == 1 && back.keep_alive && !back.chunked);
  check(back.upgrade == req.upgrade);
  check(back.content_length == body || (!back.content_length && body == 0u));
  check(!has_hop_by_hop(back, req.upgrade));
  check(http1::find_header(back, "transfer-encoding") == nullptr);
  const http1::Header* xff = http1::find_header(back, "x-forwarded-for");
  check(xff != nullptr && xff->value.ends_with("192.0.2.1"));
}

void check_response(std::string_view in) {
  http1::ResponseHead res;
  Error e;
  const Parse p = http1::parse_response(in, kMaxHead, res, e);
  check_head(in, p, e, res);
  if (p != Parse::kDone) return;
  check(res.status >= 100 && res.status <= 999);

  std::string out;
  const int client_minor = static_cast<int>(in.size() % 2);
  // As the proxy does: an HTTP/1.0 client gets a chunked body de-chunked,
  // without the framing field, and the connection closes after it.
  const bool dechunked = client_minor == 0 && res.chunked;
  http1::write_response_head(res, res.keep_alive && !dechunked, out, client_minor);
  http1::ResponseHead back;
  const Parse again = http1::parse_response(out, out.size(), back, e);
  if (again == Parse::kError && e == Error::kTooManyHeaders &&
      res.headers.size() + 1 > http1::kDefaultMaxHeaders)
    return;
  check(again == Parse::kDone && back.head_size == out.size());
  check(back.status == res.status && back.reason == res.reason);
  // The body is relayed as it is, so its framing must read the same.
  if (dechunked || (res.status < 200 && res.status != 101)) {  // interim: no body
    check(!back.chunked && !back.content_length);
  } else {
    check(back.chunked == res.chunked && back.content_length == res.content_length);
    if (res.status != 101) check(back.keep_alive == res.keep_alive);
  }
  check(!has_hop_by_hop(back, res.status == 101));
}

struct Outcome {
  std::size_t used = 0;
  bool done = false;
  Error error = Error::kNone;
  http1::Decode decode = http1::Decode::kNeedMore;
  std::string body;
};

void check_chunked(std::string_view in) {
  Outcome whole, bytes;
  {
    http1::ChunkedScanner s;
    whole.used = s.scan(in, whole.error);
    whole.done = s.done();
    check(whole.used <= in.size());
    check(whole.done || whole.error != Error::kNone || whole.used == in.size());
    if (whole.done) check(in.substr(whole.used - 2, 2) == "\r\n");
  }
  {
    http1::ChunkedScanner s;
    for (std::size_t i = 0; i < in.size() && !s.done() && bytes.error == Error::kNone; ++i)
      bytes.used += s.scan(in.substr(i, 1), bytes.error);
    bytes.done = s.done();
  }
  check(whole.used == bytes.used && whole.done == bytes.done && whole.error == bytes.error);

  // The decoder reads the same bytes, and the same data however they arrive.
  const std::size_t scanned = whole.used;
  const std::uint64_t limit = in.empty() ? 0 : static_cast<unsigned char>(in[0]) * 4;
  http1::ChunkedDecoder dw(limit), db(limit);
  whole.decode = dw.decode(in, whole.body, whole.used, whole.error);
  std::size_t used = 0, total = 0;
  bytes.decode = http1::Decode::kNeedMore;
  for (std::size_t i = 0; i < in.size() && bytes.decode == http1::Decode::kNeedMore; ++i) {
    bytes.decode = db.decode(in.substr(i, 1), bytes.body, used, bytes.error);
    total += used;
  }
  check(whole.decode == bytes.decode && whole.body == bytes.body && whole.used == total);
  check(whole.body.size() <= limit);
  if (whole.decode != http1::Decode::kTooLarge) {
    check(whole.used == scanned);  // the same bytes as the scanner
    check((whole.decode == http1::Decode::kDone) == whole.done);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_request(in);
  check_response(in);
  check_chunked(in);
  return 0;
}
