#pragma once
// Internal to the RocksDB module (rocksdb_kv_state.cc): how the applied state lays out its records in
// RocksDB (the layout is described in kv_state.h), and the file moves of a
// checkpoint install. Plain functions, no RocksDB handle kept.
#include <rocksdb/status.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/kv_state.h"

namespace rocksdb {
class DB;
}

namespace failover::store {

using namespace std::string_view_literals;

// Every reserved key starts with "\x00", which no user key does.
inline constexpr std::string_view kAppliedSeqKey = "\x00meta/applied_seq"sv;
inline constexpr std::string_view kIdemPrefix = "\x00idem/"sv;
inline constexpr std::string_view kIdemSeqPrefix = "\x00idseq/"sv;
inline constexpr std::string_view kLargePrefix = "\x00large/"sv;

std::string encode_u64(std::uint64_t v);                      // 8 bytes, little-endian
std::optional<std::uint64_t> decode_u64(std::string_view b);  // exactly 8 bytes
// Big-endian, so that seq order is byte order in RocksDB's key order.
std::optional<std::uint64_t> decode_be64(std::string_view b);

std::string idem_key(std::string_view idempotency_key);  // kIdemPrefix + key
std::string idem_seq_key(std::uint64_t seq);             // kIdemSeqPrefix + be64(seq)
std::optional<std::uint64_t> idem_seq_of(std::string_view idem_seq_key);  // its seq; nullopt when damaged
std::string large_key(std::string_view key);             // kLargePrefix + key

// [u64 version][value bytes]
std::string encode_versioned(std::uint64_t version, std::string_view value);
std::optional<VersionedValue> decode_versioned(std::string_view stored);
// The same, taking the bytes over rather than copying them (a value may be
// 64 MiB).
std::optional<VersionedValue> decode_versioned(std::string&& stored);

// [u64 epoch][u64 seq][u64 version][u8 op]
std::string encode_idempotency(const IdempotencyRecord& r);
std::optional<IdempotencyRecord> decode_idempotency(std::string_view stored);

// kInternal: "<what>: <RocksDB's message>".
core::Error rocks_error(const std::string& what, const rocksdb::Status& s);

// Checkpoint install, crash-safe by renames: `dir` is first renamed to
// `dir`.old, the checkpoint renamed to `dir`, then `dir`.old removed, with
// the parent directory fsynced after each rename.
core::Result<void> move_checkpoint_into_place(const std::string& checkpoint_dir, const std::string& dir);
// At open: finishes or undoes an install a crash cut short (restores
// `dir`.old when `dir` is missing, removes it when both exist).
core::Result<void> recover_interrupted_install(const std::string& dir);
// rocksdb::Checkpoint of `db` into `dir`.
core::Result<void> make_checkpoint(rocksdb::DB& db, const std::string& dir);

}  // namespace failover::store
