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

// Whether the head's Connection fields name anything beyond the three
// tokens every client sends; only then is each field looked up in them.
bool names_fields(const MessageHead& head) {
  bool found = false;
  for (const Header& h : head.fields()) {
    if (classify(h.name) != Kind::kConnection) continue;
    for_each_element(h.value, [&](std::string_view t) {
      if (!iequals(t, "close") && !iequals(t, "keep-alive") && !iequals(t, "upgrade")) found = true;
    });
  }
  return found;
}

bool named_in_connection(const MessageHead& head, bool names_fields, std::string_view name) {
  if (!names_fields) return false;
  bool found = false;
  for (const Header& h : head.fields()) {
    if (found) break;
    if (classify(h.name) != Kind::kConnection) continue;
    for_each_element(h.value, [&](std::string_view t) { found = found || iequals(t, name); });
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
  const bool named = names_fields(req);
  out.append(req.method).append(" ").append(req.target).append(" HTTP/1.1\r\n");

  for (const Header& h : req.fields()) {
    switch (classify(h.name)) {
      case Kind::kPass: break;
      case Kind::kUpgrade:  // named in Connection, which must not drop it
        if (upgrade) append_field(out, h.name, h.value);
        continue;
      default: continue;  // hop-by-hop, or written below
    }
    // Host routes the request at the server; a client naming it in
    // Connection would have it arrive with none (Content-Length and
    // Transfer-Encoding are ours to write below, whatever Connection says).
    const bool is_host = h.name.size() == 4 && iequals(h.name, "host");
    if (!is_host && named_in_connection(req, named, h.name)) continue;
    append_field(out, h.name, h.value);
  }

  // We speak HTTP/1.1 to the server, which needs a Host: an HTTP/1.0 client
  // may have sent none, and then the target has no authority we know of
  // (RFC 9112 3.2: send it empty).
  if (req.version_minor == 0 && find_header(req, "host") == nullptr) out.append("Host: \r\n");

  // The client's list, then the client: one field, so no server has to know
  // that several X-Forwarded-For fields are to be joined. Unless the client
  // named X-Forwarded-For in Connection, which asks us to drop its list.
  out.append("X-Forwarded-For: ");
  const bool keep_list = !named_in_connection(req, named, "x-forwarded-for");
  bool first = true;
  for (const Header& h : req.fields()) {
    if (!keep_list) break;
    if (classify(h.name) != Kind::kForwardedFor || h.value.empty()) continue;
    if (!first) out.append(", ");
    out.append(h.value);
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
  const bool named = names_fields(res);
  const bool switching = res.status == 101;
  const bool interim = res.status < 200 && !switching;  // has no body (RFC 9110 15.2)
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(res.status));
  out.append(" ").append(res.reason).append("\r\n");

  for (const Header& h : res.fields()) {
    switch (classify(h.name)) {
      // The body is relayed byte for byte, so its framing must reach the
      // client as the server wrote it, whatever Connection says; except that
      // an HTTP/1.0 client cannot read chunked framing: it gets the data
      // de-chunked, ended by the close.
      case Kind::kContentLength:
        if (!interim) append_field(out, h.name, h.value);
        continue;
      case Kind::kTransferEncoding:
        if (client_version_minor != 0 && !interim) append_field(out, h.name, h.value);
        continue;
      case Kind::kUpgrade:
        if (switching) append_field(out, h.name, h.value);
        continue;
      case Kind::kHop:
      case Kind::kConnection: continue;
      default: break;
    }
    if (named_in_connection(res, named, h.name)) continue;
    append_field(out, h.name, h.value);
  }

  if (switching) {
    out.append("Connection: upgrade\r\n");
  } else if (interim) {
    // The final response says what becomes of the connection.
  } else if (!keep_alive_to_client) {
    out.append("Connection: close\r\n");
  } else if (client_version_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

}  // namespace failover::net::http1
