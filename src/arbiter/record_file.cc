#include "arbiter/record_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>

namespace failover::arbiter {
namespace {

// Records are about a hundred bytes per member; anything this large is not one.
constexpr std::size_t kMaxRecordFileBytes = 1 << 20;

core::Error io_error(const std::string& what, const std::string& path) {
  return core::Error::unavailable(what + " " + path + ": " + std::strerror(errno));
}

core::Result<void> write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("write", path);
    done += static_cast<std::size_t>(n);
  }
  return core::ok();
}

core::Result<void> fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return io_error("open", path);
  const int rc = ::fsync(fd);
  const core::Error error = io_error("fsync", path);  // errno before close() can change it
  ::close(fd);
  if (rc != 0) return error;
  return core::ok();
}

}  // namespace

RecordFile::RecordFile(std::string dir) : dir_(std::move(dir)) {}

core::Result<std::optional<Record>> RecordFile::load() {
  const std::string file = path();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::optional<Record>();
  if (fd < 0) return io_error("open", file);
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text.size() > kMaxRecordFileBytes) {
      const core::Error error = io_error("read", file);
      ::close(fd);
      if (n < 0) return error;
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  if (text.size() > kMaxRecordFileBytes) return core::Error::invalid(file + ": too large for a record");
  core::Result<Record> record = record_from_json(text);
  if (!record) return core::Error::invalid(file + ": " + record.error().message);
  return std::optional<Record>(std::move(*record));
}

core::Result<void> RecordFile::save(const Record& record) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return core::Error::unavailable("create " + dir_ + ": " + ec.message());
  const std::string file = path();
  const std::string tmp = file + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", tmp);
  core::Result<void> written = write_all(fd, to_json(record) + "\n", tmp);
  if (written && ::fsync(fd) != 0) written = io_error("fsync", tmp);
  ::close(fd);
  if (!written) return written;
  if (::rename(tmp.c_str(), file.c_str()) != 0) return io_error("rename to", file);
  // The rename is in the directory: without this fsync a crash could bring
  // back the old name, i.e. the old record, after we answered with the new.
  return fsync_path(dir_, O_RDONLY | O_DIRECTORY);
}

Record new_cluster_record() {
  std::random_device random;
  std::ostringstream id;
  for (int i = 0; i < 4; ++i) {
    char word[9];
    std::snprintf(word, sizeof word, "%08x", static_cast<unsigned>(random()));
    id << word;
  }
  Record r;
  r.cluster_id = id.str();
  r.version = 1;
  r.epoch = 0;
  return r;
}

}  // namespace failover::arbiter
