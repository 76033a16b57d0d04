#pragma once
// An in-memory store::FileSystem that models what survives a crash, after
// LevelDB's fault_injection_test Env: bytes appended or reserved in a file
// are volatile until that file's sync(); a created, renamed or removed name is volatile
// until sync_dir() of its directory; crash() throws away everything
// volatile. On top: failing fsyncs, a full disk, flipped bytes, and
// die_after(n) to stop the "process" at every point of an operation.
//
//   test::FaultyFileSystem fs;
//   auto log = store::Log::open(fs, "data/log");
//   ... append, no sync ...
//   fs.crash();                      // as if the power went
//   auto again = store::Log::open(fs, "data/log");   // the unsynced entries are gone
//
// Simplifications: directories exist once create_dirs() returns (the posix
// one fsyncs their parents) and are never removed. Each file keeps its bytes
// now and its bytes as last synced; appends over reserved zeros overwrite.
// Thread-safe: one mutex around everything.
#include <cstdint>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/file_system.h"

namespace failover::test {

class FaultyFileSystem final : public store::FileSystem {
 public:
  explicit FaultyFileSystem(uint32_t seed = 1) : random_(seed) {}

  // ---------------------------------------------------------- faults

  // The machine stops: every name goes back to what its directory last
  // synced, every file to its synced bytes. With `tear`, each file keeps its
  // new bytes up to a random point past what it shares with its synced
  // bytes, and the synced ones after it (a sequential write the disk had
  // half done). Clears die_after and fail_next_sync. Handles opened before
  // fail from now on, as the process that held them is gone.
  void crash(bool tear = false) {
    std::lock_guard lock(mu_);
    names_ = durable_names_;
    for (auto& [name, inode] : names_) {
      std::string& data = inode->data;
      const std::string& durable = inode->durable;
      if (tear) {
        const size_t same = static_cast<size_t>(
            std::mismatch(data.begin(), data.begin() + std::min(data.size(), durable.size()), durable.begin()).first -
            data.begin());
        const size_t torn = std::uniform_int_distribution<size_t>(same, data.size())(random_);
        data.resize(torn);
        if (torn < durable.size()) data.append(durable, torn);
      } else {
        data = durable;
      }
      inode->durable = data;
    }
    ++generation_;
    steps_left_ = -1;
    failing_syncs_ = 0;
  }

  // The next `n` fsyncs (of a file or a directory) fail with EIO; what
  // they should have made durable stays volatile.
  void fail_next_sync(int n) {
    std::lock_guard lock(mu_);
    failing_syncs_ = n;
  }

  // Appends past `bytes` in all (over every file) fail as ENOSPC does,
  // after writing what still fits.
  void set_capacity(uint64_t bytes) {
    std::lock_guard lock(mu_);
    capacity_ = bytes;
  }

  // Inverts the byte at `offset` of `path` (a disk that went bad there),
  // synced or not.
  void flip_byte(const store::Path& path, uint64_t offset) {
    std::lock_guard lock(mu_);
    auto it = names_.find(norm(path));
    if (it == names_.end()) return;
    Inode& inode = *it->second;
    if (offset < inode.data.size()) inode.data[offset] ^= 0xFF;
    if (offset < inode.durable.size()) inode.durable[offset] ^= 0xFF;
  }

  // After `n` more changing calls (open_for_append, append, reserve, sync, create_dirs,
  // rename, remove, truncate, sync_dir) every changing call fails, as if the
  // process had died right there; crash() then models the restart.
  void die_after(int n) {
    std::lock_guard lock(mu_);
    steps_left_ = n;
  }

  // Runs in every file sync() before it takes effect, outside the lock: a
  // test blocks the writer thread in its fsync with it.
  void set_sync_hook(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    sync_hook_ = std::move(hook);
  }

  // ---------------------------------------------------------- inspection

  // Successful file syncs so far (group commit: one per group).
  int file_syncs() const {
    std::lock_guard lock(mu_);
    return file_syncs_;
  }
  // The bytes of `path` now ("" when missing).
  std::string contents(const store::Path& path) const {
    std::lock_guard lock(mu_);
    auto it = names_.find(norm(path));
    return it == names_.end() ? std::string() : it->second->data;
  }

  // ---------------------------------------------------------- FileSystem

  core::Result<std::unique_ptr<store::WritableFile>> open_for_append(const store::Path& path) override {
    std::lock_guard lock(mu_);
    if (auto r = step(); !r) return r.error();
    const std::string name = norm(path);
    if (!dir_exists(parent(name))) return not_found(name);
    auto& inode = names_[name];
    if (!inode) inode = std::make_shared<Inode>();
    return std::unique_ptr<store::WritableFile>(std::make_unique<File>(*this, inode, name));
  }

  core::Result<std::string> read_file(const store::Path& path) override {
    std::lock_guard lock(mu_);
    auto it = names_.find(norm(path));
    if (it == names_.end()) return not_found(norm(path));
    return it->second->data;
  }

  core::Result<std::string> read_range(const store::Path& path, uint64_t offset, uint64_t length) override {
    std::lock_guard lock(mu_);
    auto it = names_.find(norm(path));
    if (it == names_.end()) return not_found(norm(path));
    const std::string& data = it->second->data;
    if (offset >= data.size()) return std::string();
    return data.substr(offset, length);
  }

  core::Result<std::vector<std::string>> list_dir(const store::Path& dir) override {
    std::lock_guard lock(mu_);
    const std::string d = norm(dir);
    if (!dir_exists(d)) return not_found(d);
    std::set<std::string> out;
    for (const auto& [name, inode] : names_) {
      if (parent(name) == d) out.insert(leaf(name));
    }
    for (const std::string& sub : dirs_) {
      if (parent(sub) == d && sub != d) out.insert(leaf(sub));
    }
    return std::vector<std::string>(out.begin(), out.end());
  }

  core::Result<void> create_dirs(const store::Path& dir) override {
    std::lock_guard lock(mu_);
    if (auto r = step(); !r) return r;
    for (std::string d = norm(dir); !d.empty() && d != "." && d != "/"; d = parent(d)) dirs_.insert(d);
    return core::ok();
  }

  core::Result<void> rename(const store::Path& from, const store::Path& to) override {
    std::lock_guard lock(mu_);
    if (auto r = step(); !r) return r;
    auto it = names_.find(norm(from));
    if (it == names_.end()) return not_found(norm(from));
    auto inode = it->second;
    names_.erase(it);
    names_[norm(to)] = std::move(inode);
    return core::ok();
  }

  core::Result<void> remove(const store::Path& path) override {
    std::lock_guard lock(mu_);
    if (auto r = step(); !r) return r;
    if (names_.erase(norm(path)) == 0) return not_found(norm(path));
    return core::ok();
  }

  core::Result<void> truncate(const store::Path& path, uint64_t size) override {
    std::lock_guard lock(mu_);
    if (auto r = step(); !r) return r;
    auto it = names_.find(norm(path));
    if (it == names_.end()) return not_found(norm(path));
    Inode& inode = *it->second;
    if (size < inode.data.size()) inode.data.resize(size);
    inode.durable = inode.data;  // durable when it returns (file_system.h)
    return core::ok();
  }

  core::Result<void> sync_dir(const store::Path& dir) override {
    std::lock_guard lock(mu_);
    if (auto r = step(); !r) return r;
    if (failing_syncs_ > 0) {
      --failing_syncs_;
      return core::Error::internal(norm(dir) + ": fsync: Input/output error (injected)");
    }
    const std::string d = norm(dir);
    std::erase_if(durable_names_, [&](const auto& kv) { return parent(kv.first) == d; });
    for (const auto& [name, inode] : names_) {
      if (parent(name) == d) durable_names_[name] = inode;
    }
    return core::ok();
  }

  // What set_capacity() leaves (all of it without one).
  core::Result<uint64_t> free_bytes(const store::Path&) override {
    std::lock_guard lock(mu_);
    const uint64_t used = used_bytes();
    return used >= capacity_ ? 0 : capacity_ - used;
  }

  core::Result<uint64_t> file_size(const store::Path& path) override {
    std::lock_guard lock(mu_);
    auto it = names_.find(norm(path));
    if (it == names_.end()) return not_found(norm(path));
    return static_cast<uint64_t>(it->second->data.size());
  }

  bool exists(const store::Path& path) override {
    std::lock_guard lock(mu_);
    const std::string name = norm(path);
    return names_.count(name) > 0 || dir_exists(name);
  }

 private:
  struct Inode {
    std::string data;     // the bytes now
    std::string durable;  // what a crash leaves
  };

  class File final : public store::WritableFile {
   public:
    File(FaultyFileSystem& fs, std::shared_ptr<Inode> inode, std::string name)
        : fs_(fs),
          inode_(std::move(inode)),
          name_(std::move(name)),
          generation_(fs.generation_),
          next_(inode_->data.size()) {}

    core::Result<void> append(std::string_view bytes) override {
      std::lock_guard lock(fs_.mu_);
      if (auto r = check(); !r) return r;
      std::string& data = inode_->data;
      next_ = std::min<uint64_t>(next_, data.size());  // the file was cut under this handle
      const uint64_t fits = std::min<uint64_t>(bytes.size(), data.size() - next_ + room());
      if (next_ + fits > data.size()) data.resize(next_ + fits);
      data.replace(next_, fits, bytes.substr(0, fits));
      next_ += fits;
      if (fits < bytes.size()) return disk_full();
      return core::ok();
    }

    core::Result<void> reserve(uint64_t size) override {
      std::lock_guard lock(fs_.mu_);
      if (auto r = check(); !r) return r;
      std::string& data = inode_->data;
      if (size <= data.size()) return core::ok();
      const uint64_t grow = size - data.size();
      const uint64_t fits = std::min(grow, room());
      data.append(fits, '\0');
      if (fits < grow) return disk_full();
      return core::ok();
    }

    core::Result<void> sync() override {
      std::function<void()> hook;
      {
        std::lock_guard lock(fs_.mu_);
        hook = fs_.sync_hook_;
      }
      if (hook) hook();
      std::lock_guard lock(fs_.mu_);
      if (auto r = check(); !r) return r;
      if (fs_.failing_syncs_ > 0) {
        --fs_.failing_syncs_;
        return core::Error::internal(name_ + ": fdatasync: Input/output error (injected)");
      }
      inode_->durable = inode_->data;
      ++fs_.file_syncs_;
      return core::ok();
    }

    core::Result<void> close() override { return core::ok(); }

   private:
    uint64_t room() const {
      const uint64_t used = fs_.used_bytes();
      return used >= fs_.capacity_ ? 0 : fs_.capacity_ - used;
    }
    core::Error disk_full() const {
      return core::Error::unavailable(std::string(store::kDiskFullPrefix) + ": " + name_ +
                                      ": write: No space left on device");
    }
    core::Result<void> check() {
      if (generation_ != fs_.generation_) return core::Error::internal(name_ + ": handle from before a crash");
      return fs_.step();
    }

    FaultyFileSystem& fs_;
    std::shared_ptr<Inode> inode_;
    std::string name_;
    uint64_t generation_;
    uint64_t next_;  // where the next append writes
  };

  static std::string norm(const store::Path& path) {
    std::string s = path.lexically_normal().string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
  }
  static std::string parent(const std::string& name) {
    const auto slash = name.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : name.substr(0, slash);
  }
  static std::string leaf(const std::string& name) {
    const auto slash = name.rfind('/');
    return slash == std::string::npos ? name : name.substr(slash + 1);
  }
  static core::Error not_found(const std::string& name) {
    return core::Error::not_found(name + ": No such file or directory");
  }

  bool dir_exists(const std::string& d) const { return d == "." || d == "/" || dirs_.count(d) > 0; }

  uint64_t used_bytes() const {
    uint64_t used = 0;
    for (const auto& [name, inode] : names_) used += inode->data.size();
    return used;
  }

  // Counts one changing call; an error once die_after's budget is spent.
  core::Result<void> step() {
    if (steps_left_ == 0) return core::Error::internal("the process died here (die_after)");
    if (steps_left_ > 0) --steps_left_;
    return core::ok();
  }

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Inode>> names_;          // the names now
  std::map<std::string, std::shared_ptr<Inode>> durable_names_;  // the names a crash keeps
  std::set<std::string> dirs_;
  std::mt19937 random_;
  uint64_t generation_ = 0;  // crashes so far
  uint64_t capacity_ = UINT64_MAX;
  int failing_syncs_ = 0;
  int steps_left_ = -1;  // -1: no limit
  int file_syncs_ = 0;
  std::function<void()> sync_hook_;
};

}  // namespace failover::test
