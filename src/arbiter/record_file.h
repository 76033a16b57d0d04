#pragma once
// Where the witness keeps its record: one file, DIR/record.json, replaced
// atomically and durably (write record.json.tmp, fsync it, rename it over
// record.json, fsync DIR), so that after a crash at any point the file holds
// either the old record or the new one, never a mix or nothing.
#include <optional>
#include <string>

#include "arbiter/record.h"
#include "core/result.h"

namespace failover::arbiter {

// The seam between the witness's request handling and the disk, so a test
// can make a write fail.
class RecordStore {
 public:
  virtual ~RecordStore() = default;
  // The record, or nullopt when none was ever saved. kInvalid when the file
  // exists but does not hold a record; kUnavailable when it cannot be read.
  virtual core::Result<std::optional<Record>> load() = 0;
  // Success only once `record` is durable. An error means the witness can no
  // longer promise anything about its disk: the caller stops serving.
  virtual core::Result<void> save(const Record& record) = 0;
};

class RecordFile final : public RecordStore {
 public:
  // `dir` is created (with its parents) by save() when missing.
  explicit RecordFile(std::string dir);
  core::Result<std::optional<Record>> load() override;
  core::Result<void> save(const Record& record) override;
  std::string path() const { return dir_ + "/record.json"; }

 private:
  std::string dir_;
};

// A new cluster's record: a random 128-bit cluster_id in hex, version 1,
// epoch 0, no primary, in_sync empty.
Record new_cluster_record();

}  // namespace failover::arbiter
