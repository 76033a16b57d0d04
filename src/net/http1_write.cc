// Head writing for the proxy: which fields pass a hop and which are the
// business of one connection (RFC 9110 7.6.1). Appends only, so one reused
// string serves every message of a connection.
#include <charconv>

#include "net/http1.h"

namespace failover::net::http1 {

namespace {

// How a field is treated on its way through the proxy.
enum class Kind : std::uint8_t {
  kPass,
  kHop,  // Keep-Alive, Proxy-*, TE, Trailer: never forwarded
  kConnection,
  kUpgrade,
  kContentLength,
  kTransferEncoding,
  kForwardedFor,
  kForwardedProto,
};

Kind classify(std::string_view n) {
  // The length picks the candidates, so a field that matters to nobody
  // costs one switch.
  switch (n.size()) {
    case 2: return iequals(n, "te") ? Kind::kHop : Kind::kPass;
    case 7:
      if (iequals(n, "upgrade")) return Kind::kUpgrade;
      return iequals(n, "trailer") ? Kind::kHop : Kind::kPass;
    case 10:
      if (iequals(n, "connection")) return Kind::kConnection;
      return iequals(n, "keep-alive") ? Kind::kHop : Kind::kPass;
    case 14: return iequals(n, "content-length") ? Kind::kContentLength : Kind::kPass;
    case 15: return iequals(n, "x-forwarded-for") ? Kind::kForwardedFor : Kind::kPass;
    case 16: return iequals(n, "proxy-connection") ? Kind::kHop : Kind::kPass;
    case 17:
      if (iequals(n, "transfer-encoding")) return Kind::kTransferEncoding;
      return iequals(n, "x-forwarded-proto") ? Kind::kForwardedProto : Kind::kPass;
    case 18: return iequals(n, "proxy-authenticate") ? Kind::kHop : Kind::kPass;
    case 19: return iequals(n, "proxy-authorization") ? Kind::kHop : Kind::kPass;
    default: return Kind::kPass;
  }
}

// The head's fields classified once, plus whether its Connection fields name
// anything beyond the three tokens every client sends; only then is each
// field looked up in them.
struct Fields {
  std::array<Kind, kMaxHeaders> kind;
  bool names_fields = false;
};

void classify_all(const MessageHead& head, Fields& f) {
  for (std::size_t i = 0; i < head.header_count; ++i) {
    f.kind[i] = classify(head.headers[i].name);
    if (f.kind[i] != Kind::kConnection) continue;
    for_each_element(head.headers[i].value, [&](std::string_view t) {
      if (!iequals(t, "close") && !iequals(t, "keep-alive") && !iequals(t, "upgrade"))
        f.names_fields = true;
    });
  }
}

bool named_in_connection(const MessageHead& head, const Fields& f, std::string_view name) {
  if (!f.names_fields) return false;
  bool found = false;
  for (std::size_t i = 0; i < head.header_count && !found; ++i) {
    if (f.kind[i] != Kind::kConnection) continue;
    for_each_element(head.headers[i].value,
                     [&](std::string_view t) { found = found || iequals(t, name); });
  }
  return found;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

}  // namespace

void write_request_head(const RequestHead& req, std::string_view client_ip,
                        std::optional<std::uint64_t> body_length, bool upgrade, std::string& out) {
  Fields f;
  classify_all(req, f);
  out.append(req.method).append(" ").append(req.target).append(" HTTP/1.1\r\n");

  for (std::size_t i = 0; i < req.header_count; ++i) {
    const Header& h = req.headers[i];
    switch (f.kind[i]) {
      case Kind::kPass: break;
      case Kind::kUpgrade:  // named in Connection, which must not drop it
        if (upgrade) append_field(out, h.name, h.value);
        continue;
      default: continue;  // hop-by-hop, or written below
    }
    // A client may name Host here too; RFC 9110 7.6.1 says drop it all the same.
    if (named_in_connection(req, f, h.name)) continue;
    append_field(out, h.name, h.value);
  }

  // The client's list, then the client: one field, so no server has to know
  // that several X-Forwarded-For fields are to be joined. Unless the client
  // named X-Forwarded-For in Connection, which asks us to drop its list.
  out.append("X-Forwarded-For: ");
  const bool keep_list = !named_in_connection(req, f, "x-forwarded-for");
  bool first = true;
  for (std::size_t i = 0; i < req.header_count && keep_list; ++i) {
    if (f.kind[i] != Kind::kForwardedFor || req.headers[i].value.empty()) continue;
    if (!first) out.append(", ");
    out.append(req.headers[i].value);
    first = false;
  }
  if (!first) out.append(", ");
  out.append(client_ip).append("\r\nX-Forwarded-Proto: http\r\n");

  // A POST without a body still says so: some servers answer 411 otherwise.
  if (body_length &&
      (*body_length > 0 || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")) {
    out.append("Content-Length: ");
    append_number(out, *body_length);
    out.append("\r\n");
  }
  if (upgrade) out.append("Connection: upgrade\r\n");
  out.append("\r\n");
}

void write_response_head(const ResponseHead& res, bool keep_alive_to_client, std::string& out,
                         int client_version_minor) {
  Fields f;
  classify_all(res, f);
  const bool switching = res.status == 101;
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(res.status));
  out.append(" ").append(res.reason).append("\r\n");

  for (std::size_t i = 0; i < res.header_count; ++i) {
    const Header& h = res.headers[i];
    switch (f.kind[i]) {
      // The body is relayed byte for byte, so its framing must reach the
      // client as the server wrote it, whatever Connection says; except that
      // an HTTP/1.0 client cannot read chunked framing: it gets the data
      // de-chunked, ended by the close.
      case Kind::kContentLength: append_field(out, h.name, h.value); continue;
      case Kind::kTransferEncoding:
        if (client_version_minor != 0) append_field(out, h.name, h.value);
        continue;
      case Kind::kUpgrade:
        if (switching) append_field(out, h.name, h.value);
        continue;
      case Kind::kHop:
      case Kind::kConnection: continue;
      default: break;
    }
    if (named_in_connection(res, f, h.name)) continue;
    append_field(out, h.name, h.value);
  }

  if (switching) {
    out.append("Connection: upgrade\r\n");
  } else if (!keep_alive_to_client) {
    out.append("Connection: close\r\n");
  } else if (client_version_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

}  // namespace failover::net::http1
