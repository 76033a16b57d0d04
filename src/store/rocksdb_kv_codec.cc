#include "store/rocksdb_kv_codec.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace failover::store {

namespace fs = std::filesystem;

std::string encode_u64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::optional<std::uint64_t> decode_u64(std::string_view b) {
  if (b.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

std::optional<std::uint64_t> decode_be64(std::string_view b) {
  if (b.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string idem_key(std::string_view idempotency_key) {
  std::string k(kIdemPrefix);
  k += idempotency_key;
  return k;
}

std::string large_key(std::string_view key) {
  std::string k(kLargePrefix);
  k += key;
  return k;
}

std::string idem_seq_key(std::uint64_t seq) {
  std::string k(kIdemSeqPrefix);
  for (int i = 7; i >= 0; --i) k += static_cast<char>((seq >> (8 * i)) & 0xff);
  return k;
}

std::optional<std::uint64_t> idem_seq_of(std::string_view idem_seq_key) {
  if (!idem_seq_key.starts_with(kIdemSeqPrefix)) return std::nullopt;
  return decode_be64(idem_seq_key.substr(kIdemSeqPrefix.size()));
}

std::string encode_versioned(std::uint64_t version, std::string_view value) {
  std::string out = encode_u64(version);
  out += value;
  return out;
}

std::optional<VersionedValue> decode_versioned(std::string_view stored) {
  if (stored.size() < 8) return std::nullopt;
  auto version = decode_u64(stored.substr(0, 8));
  return VersionedValue{std::string(stored.substr(8)), *version};
}

std::optional<VersionedValue> decode_versioned(std::string&& stored) {
  if (stored.size() < 8) return std::nullopt;
  const std::uint64_t version = *decode_u64(std::string_view(stored).substr(0, 8));
  stored.erase(0, 8);
  return VersionedValue{std::move(stored), version};
}

// epoch, seq, version (u64 little-endian each), op (1 byte), then the
// request's fingerprint (u32 little-endian), absent from records written
// before it was kept.
std::string encode_idempotency(const IdempotencyRecord& r) {
  std::string out = encode_u64(r.epoch) + encode_u64(r.seq) + encode_u64(r.version);
  out += static_cast<char>(r.op);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((r.fingerprint >> (8 * i)) & 0xff);
  return out;
}

std::optional<IdempotencyRecord> decode_idempotency(std::string_view stored) {
  if (stored.size() != 25 && stored.size() != 29) return std::nullopt;
  const auto op = static_cast<std::uint8_t>(stored[24]);
  if (op > static_cast<std::uint8_t>(KvOp::kDelete)) return std::nullopt;
  std::uint32_t fingerprint = 0;
  for (std::size_t i = stored.size(); i > 25; --i) fingerprint = (fingerprint << 8) | static_cast<std::uint8_t>(stored[i - 1]);
  return IdempotencyRecord{*decode_u64(stored.substr(0, 8)), *decode_u64(stored.substr(8, 8)),
                           *decode_u64(stored.substr(16, 8)), static_cast<KvOp>(op), fingerprint};
}

core::Error rocks_error(const std::string& what, const rocksdb::Status& s) {
  return core::Error::internal(what + ": " + s.ToString());
}

namespace {

core::Error fs_error(const std::string& what, const std::error_code& ec) {
  return core::Error::internal(what + ": " + ec.message());
}

// A rename is durable only once its directory is fsynced.
core::Result<void> fsync_dir(const fs::path& dir) {
  const std::string path = dir.empty() ? "." : dir.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return core::Error::internal("open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return core::Error::internal("fsync " + path + ": " + std::strerror(err));
  return core::ok();
}

fs::path aside(const std::string& dir) { return fs::path(dir + ".old"); }

}  // namespace

core::Result<void> move_checkpoint_into_place(const std::string& checkpoint_dir, const std::string& dir) {
  std::error_code ec;
  const fs::path target(dir), old = aside(dir);
  if (!fs::is_directory(checkpoint_dir, ec)) return core::Error::invalid(checkpoint_dir + ": not a directory");
  if (auto done = recover_interrupted_install(dir); !done) return done;
  if (fs::exists(target, ec)) {
    fs::rename(target, old, ec);
    if (ec) return fs_error("rename " + dir, ec);
    if (auto synced = fsync_dir(target.parent_path()); !synced) return synced;
  }
  fs::rename(checkpoint_dir, target, ec);
  if (ec) return fs_error("rename " + checkpoint_dir + " to " + dir, ec);
  if (auto synced = fsync_dir(target.parent_path()); !synced) return synced;
  if (auto synced = fsync_dir(fs::path(checkpoint_dir).parent_path()); !synced) return synced;
  fs::remove_all(old, ec);
  if (ec) return fs_error("remove " + old.string(), ec);
  return core::ok();
}

core::Result<void> recover_interrupted_install(const std::string& dir) {
  std::error_code ec;
  const fs::path target(dir), old = aside(dir);
  if (!fs::exists(old, ec)) return core::ok();
  if (fs::exists(target, ec)) {
    fs::remove_all(old, ec);  // the install finished but for this
    if (ec) return fs_error("remove " + old.string(), ec);
    return core::ok();
  }
  fs::rename(old, target, ec);  // cut short before the checkpoint moved in
  if (ec) return fs_error("rename " + old.string() + " back", ec);
  return fsync_dir(target.parent_path());
}

core::Result<void> make_checkpoint(rocksdb::DB& db, const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(&db, &raw);
  if (!s.ok()) return rocks_error("checkpoint", s);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: flush the memtables first, always. With the WAL
  // off, a checkpoint that left them out would miss recent applies.
  s = checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  if (!s.ok()) return rocks_error("checkpoint into " + dir, s);
  return core::ok();
}

}  // namespace failover::store
