#include "client/resolver_cache_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

namespace failover::client {

namespace json = boost::json;

namespace {

constexpr std::int64_t kVersion = 1;

json::array to_array(const std::vector<std::string>& ips) {
  json::array a;
  for (const auto& ip : ips) a.emplace_back(ip);
  return a;
}

std::string errno_text(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

}  // namespace

std::string serialize_cache_file(const std::vector<PersistedEntry>& entries) {
  json::object hosts;
  for (const auto& e : entries) {
    hosts[e.host] = json::object{{"ips", to_array(e.answer.ips)},
                                 {"ipsv6", to_array(e.answer.ipsv6)},
                                 {"ttl", e.answer.ttl.count()},
                                 {"fetched_unix_ms", e.fetched_unix_ms}};
  }
  return json::serialize(json::object{{"version", kVersion}, {"hosts", std::move(hosts)}}) + "\n";
}

core::Result<std::vector<PersistedEntry>> parse_cache_file(std::string_view text) {
  std::vector<PersistedEntry> out;
  auto fail = [](std::string why) { return core::Error::invalid(std::move(why)); };
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  const auto v = json::parse(text, ec, {}, options);
  if (ec) return fail("not JSON: " + ec.message());
  const auto* o = v.if_object();
  if (!o) return fail("not a JSON object");
  const auto* version = o->if_contains("version");
  if (!version || !version->is_int64() || version->as_int64() != kVersion)
    return fail("not a version 1 resolver cache");
  const auto* hosts = o->if_contains("hosts");
  if (!hosts || !hosts->is_object()) return fail("no \"hosts\" object");
  for (const auto& kv : hosts->as_object()) {
    const std::string host(kv.key());
    if (!valid_host_name(host) || normalize_host(host) != host) return fail("bad host name \"" + host.substr(0, 64) + "\"");
    const auto* entry = kv.value().if_object();
    const auto* fetched = entry ? entry->if_contains("fetched_unix_ms") : nullptr;
    if (!fetched || !fetched->is_int64() || fetched->as_int64() < 0)
      return fail(host + ": no valid \"fetched_unix_ms\"");
    // The answer part has the reply's shape, so the reply's checks apply.
    json::object answer_only = *entry;
    answer_only.erase("fetched_unix_ms");
    const auto reply = parse_httpdns_reply(json::serialize(json::object{{host, std::move(answer_only)}}));
    if (!reply) return fail(host + ": " + reply.error().message);
    if (reply->size() != 1) return fail(host + ": not one answer");
    const HostReply& only = reply->front();
    if (!only.answer) return fail(host + ": " + only.answer.error().message);
    out.push_back({host, *only.answer, fetched->as_int64()});
  }
  return out;
}

core::Result<void> write_file_atomically(const std::string& path, std::string_view content) {
  // The pid keeps two processes sharing one cache file off each other's
  // temporary; the last rename wins, and either file is whole.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return core::Error::unavailable(errno_text("create", tmp));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto why = errno_text("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::Error::unavailable(why);
    }
    done += static_cast<std::size_t>(n);
  }
  // Without the fsync a crash after the rename could leave an empty file
  // under the real name: the rename reaches the disk before the data.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    auto why = errno_text("sync", tmp);
    ::unlink(tmp.c_str());
    return core::Error::unavailable(why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto why = errno_text("rename to", path);
    ::unlink(tmp.c_str());
    return core::Error::unavailable(why);
  }
  return core::ok();
}

core::Result<std::optional<std::string>> read_small_file(const std::string& path, std::size_t max_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return core::Error::unavailable(errno_text("open", path));
  }
  std::string out;
  char buf[16 * 1024];
  std::optional<core::Error> error;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = core::Error::unavailable(errno_text("read", path));
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      error = core::Error::invalid(path + ": larger than " + std::to_string(max_size) + " bytes");
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (error) return *error;
  return std::optional<std::string>(std::move(out));
}

}  // namespace failover::client
