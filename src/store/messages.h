#pragma once
// The replication messages between store nodes and their wire frames. Every
// message carries the sender's epoch, checked at the door: a receiver that
// knows a higher epoch refuses it (and its answer tells the sender so).
//
// Frame: [u32 length of the rest][u8 type][fields, little-endian]; strings
// and entry lists are length-prefixed; entries use entry.h's checksummed
// encoding, so a flipped bit in a payload is caught as well as a bad frame.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "store/entry.h"
#include "store/epoch_history.h"

namespace failover::store {

// The primary's only message: entries to append and, with none, a heartbeat.
// Every Append is a beacon: the backup answers it at once with `beacon`
// echoed, and the primary's lease runs from the beacon's send time.
struct Append {
  std::uint64_t epoch = 0;
  std::string from;
  std::uint64_t prev_seq = 0;    // the primary's log end before `entries`
  std::uint64_t commit_seq = 0;  // committed on the primary
  std::uint64_t beacon = 0;      // the primary's own token for the send time; echoed, never compared
  bool in_sync = false;          // the receiver is in the record's in_sync (what its /replica says)
  // Among the in-sync backups, how many the primary sees further along
  // than the receiver (0: none). On the primary's death each waits this
  // many heartbeat intervals past its grace before it asks for the role,
  // so the one with the longest log is promoted when it is alive.
  std::uint8_t rank = 0;
  std::vector<Entry> entries;    // seqs prev_seq+1, prev_seq+2, ...
  bool operator==(const Append&) const = default;
};

// A backup's answer to an Append, and its news when its disk caught up.
struct AppendAck {
  enum class Status : std::uint8_t {
    kOk = 0,         // appended (or already held) through last_seq
    kGap = 1,        // prev_seq is past my log end: send from last_seq + 1
    kNeedEpoch = 2,  // not reconciled with this epoch yet: tell me where my last epoch ends
    kStaleEpoch = 3, // your epoch is below mine (epoch says mine): you are not primary
  };
  std::uint64_t epoch = 0;  // the sender's epoch
  std::string from;
  std::string storage_id;
  Status status = Status::kOk;
  std::uint64_t last_seq = 0;    // my log end (received, maybe not yet durable)
  std::uint64_t last_epoch = 0;  // the epoch of my last entry
  std::uint64_t durable_seq = 0; // fsynced through here
  std::uint64_t beacon = 0;      // the beacon of the Append this answers (the latest seen)
  bool operator==(const AppendAck&) const = default;
};

// The primary's answer to kNeedEpoch (KIP-101/279): `leader_epoch` is the
// largest epoch of its history not above the backup's last epoch, and `end`
// the first seq after that epoch in the primary's log. The backup truncates
// what it has from there on, and asks again if its last epoch still differs.
struct EpochEnd {
  std::uint64_t epoch = 0;
  std::string from;
  std::uint64_t leader_epoch = 0;
  std::uint64_t end = 0;
  bool operator==(const EpochEnd&) const = default;
};

// The primary's answer to a backup that needs entries it has discarded: a
// RocksDB checkpoint holding every entry through `seq`, made in `id` on the
// primary. The backup fetches each file from the primary's client port
// (GET /_checkpoint/{id}/{name}?offset=N), checks its size and CRC-32C,
// installs it and restarts its log after `seq`, with `epochs` (the
// primary's epoch history through `seq`) as its base, so that KIP-101
// questions about epochs before the checkpoint still get the right answer.
struct CheckpointFile {
  std::string name;  // a plain file name: no '/', never "." or ".."
  std::uint64_t size = 0;
  std::uint32_t crc32c = 0;
  bool operator==(const CheckpointFile&) const = default;
};
struct CheckpointOffer {
  std::uint64_t epoch = 0;
  std::string from;
  std::string id;  // the checkpoint's name on the primary (a plain file name too)
  std::uint64_t seq = 0;
  std::vector<EpochHistory::Start> epochs;
  std::vector<CheckpointFile> files;
  bool operator==(const CheckpointOffer&) const = default;
};

// A planned switchover: the old primary's word to the node it handed the
// role to, once the arbiter's record names that node primary in `epoch`
// (the old primary has stepped down): read the record and take over now,
// rather than after a grace without beacons.
struct Handover {
  std::uint64_t epoch = 0;
  std::string from;
  bool operator==(const Handover&) const = default;
};

using Message = std::variant<Append, AppendAck, EpochEnd, CheckpointOffer, Handover>;

// The two connections a node keeps to each peer. Entries go on the data
// lane, in order; everything else (beacons, acks, reconciliation) on the
// control lane, so that a beacon never waits behind a 64 MiB value on the
// wire (at loopback speed here, ~0.4 s: past heartbeat.timeout). Messages
// on one lane arrive in order; across lanes in any order.
enum class Lane : std::uint8_t { kControl, kData };

// A name a checkpoint offer may carry: 1..255 bytes of [A-Za-z0-9._-], not
// "." or "..", so that it never leaves the directory it is joined to.
bool is_plain_file_name(std::string_view name);

std::uint64_t epoch_of(const Message& m);
const std::string& sender_of(const Message& m);

// Appends the frame of `m` to `out`.
void encode(std::string& out, const Message& m);
// Appends the frame of `header` (its own entries ignored) carrying
// `entries`: the frame of an Append whose entries are not copied into it.
void encode_append(std::string& out, const Append& header, std::span<const Entry* const> entries);

// Frames larger than this are refused as garbage: an Append carries entries
// of about 16 MiB together, or one entry of up to kMaxFrameBytes (a 64 MiB
// value); checkpoints do not travel as frames. A reader reserves room for a
// frame from its length, so the bound is also what a stranger can make it
// reserve.
inline constexpr std::size_t kMaxFrame = kMaxFrameBytes + (1u << 20);

struct DecodedFrame {
  std::optional<Message> message;  // empty when more bytes are needed
  // Bytes consumed; when incomplete, the whole frame's size once its length
  // field is in, else 0.
  std::size_t size = 0;
};
// Decodes the first frame of `bytes`. kInvalid for garbage: an unknown type,
// a length out of bounds, fields that overrun the frame, a bad entry checksum.
core::Result<DecodedFrame> decode_frame(std::string_view bytes);

}  // namespace failover::store
