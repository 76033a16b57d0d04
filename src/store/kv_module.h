#pragma once
// The seam between the failover binary and its RocksDB module.
//
// Every role is the same binary, but only `failover store` keeps a state in
// RocksDB. Linking librocksdb into the binary made every process map it and
// run its static initialisers: 7-10 MiB more resident memory for a load
// balancer or a witness that never opens a database. So the RocksDB code
// (rocksdb_kv_state.cc, rocksdb_kv_codec.cc) is built as a shared module,
// embedded into the binary as bytes, and loaded by KvState::open() the first
// time a process opens a state (kv_state.cc): one file to deploy, and
// librocksdb is mapped only where it is used.
#include <memory>
#include <string>

#include "core/result.h"
#include "store/kv_state.h"

namespace failover::store {

// Raised when the functions below change shape: the binary refuses a module
// of another version instead of calling into it.
inline constexpr int kKvModuleAbi = 1;

struct KvModule {
  int abi = kKvModuleAbi;
  core::Result<std::unique_ptr<KvState>> (*open)(const std::string& dir, KvStateOptions options) = nullptr;
  core::Result<std::unique_ptr<KvState>> (*install_checkpoint)(const std::string& checkpoint_dir,
                                                               const std::string& dir,
                                                               KvStateOptions options) = nullptr;
};

// The one symbol the module exports.
inline constexpr const char* kKvModuleSymbol = "failover_kv_module";
extern "C" const KvModule* failover_kv_module();

}  // namespace failover::store
