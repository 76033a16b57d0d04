// The FileSystem of the real disk: plain POSIX calls, each error mapped to
// the kinds file_system.h promises.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "store/file_system.h"

namespace failover::store {
namespace {

core::Error errno_error(const Path& path, const char* what, int err) {
  std::string message = path.string() + ": " + what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return core::Error::unavailable(std::string(kDiskFullPrefix) + ": " + message);
  if (err == ENOENT) return core::Error::not_found(std::move(message));
  return core::Error::internal(std::move(message));
}

// Closes on destruction; the one owner of a descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

core::Result<void> fsync_path(const Path& path, int flags) {
  Fd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd.get() < 0) return errno_error(path, "open", errno);
  if (::fsync(fd.get()) != 0) return errno_error(path, "fsync", errno);
  return core::ok();
}

// Writes all of `bytes` at `offset`; advances `offset` by what was written.
core::Result<void> write_at(const Path& path, int fd, std::string_view bytes, uint64_t& offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(path, "write", errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return core::ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(Path path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), next_(size), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  core::Result<void> append(std::string_view bytes) override {
    auto written = write_at(path_, fd_, bytes, next_);
    size_ = std::max(size_, next_);
    return written;
  }

  core::Result<void> reserve(uint64_t size) override {
    static const std::string zeros(256 << 10, '\0');
    while (size_ < size) {
      const std::string_view chunk(zeros.data(), std::min<uint64_t>(zeros.size(), size - size_));
      if (auto r = write_at(path_, fd_, chunk, size_); !r) return r;
    }
    return core::ok();
  }

  core::Result<void> sync() override {
    // fdatasync also writes the size an append or reserve changed; it skips only mtime.
    if (::fdatasync(fd_) != 0) return errno_error(path_, "fdatasync", errno);
    return core::ok();
  }

  core::Result<void> close() override {
    if (fd_ < 0) return core::ok();
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) return errno_error(path_, "close", errno);
    return core::ok();
  }

 private:
  Path path_;
  int fd_;
  uint64_t next_;  // where the next append writes
  uint64_t size_;  // of the file
};

class PosixFileSystem final : public FileSystem {
 public:
  core::Result<std::unique_ptr<WritableFile>> open_for_append(const Path& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error(path, "open", errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return errno_error(path, "fstat", err);
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd, size));
  }

  core::Result<std::string> read_file(const Path& path) override {
    auto size = file_size(path);
    if (!size) return size.error();
    return read_range(path, 0, *size);
  }

  core::Result<std::string> read_range(const Path& path, uint64_t offset, uint64_t length) override {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno_error(path, "open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno_error(path, "fstat", errno);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset >= size) return std::string();
    std::string out(std::min(length, size - offset), '\0');
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error(path, "read", errno);
      }
      if (n == 0) break;  // shrank under us
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
  }

  core::Result<std::vector<std::string>> list_dir(const Path& dir) override {
    std::error_code ec;
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return errno_error(dir, "list", ec.value());
    std::sort(names.begin(), names.end());
    return names;
  }

  core::Result<void> create_dirs(const Path& dir) override {
    // Parents first, so each new directory is made durable in an existing one.
    Path so_far;
    for (const Path& part : dir) {
      so_far /= part;
      if (part.empty() || exists(so_far)) continue;
      if (::mkdir(so_far.c_str(), 0755) != 0 && errno != EEXIST) return errno_error(so_far, "mkdir", errno);
      const Path parent = so_far.has_parent_path() ? so_far.parent_path() : Path(".");
      if (auto r = sync_dir(parent); !r) return r;
    }
    return core::ok();
  }

  core::Result<void> rename(const Path& from, const Path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_error(from, "rename", errno);
    return core::ok();
  }

  core::Result<void> remove(const Path& path) override {
    if (::unlink(path.c_str()) != 0) return errno_error(path, "unlink", errno);
    return core::ok();
  }

  core::Result<void> truncate(const Path& path, uint64_t size) override {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno_error(path, "open", errno);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return errno_error(path, "ftruncate", errno);
    if (::fsync(fd.get()) != 0) return errno_error(path, "fsync", errno);
    return core::ok();
  }

  core::Result<void> sync_dir(const Path& dir) override { return fsync_path(dir, O_RDONLY | O_DIRECTORY); }

  core::Result<uint64_t> free_bytes(const Path& dir) override {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return errno_error(dir, "statvfs", errno);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  core::Result<uint64_t> file_size(const Path& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno_error(path, "stat", errno);
    return static_cast<uint64_t>(st.st_size);
  }

  bool exists(const Path& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace failover::store
