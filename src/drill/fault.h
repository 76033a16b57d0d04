#pragma once
// What a link does to the traffic through it, and how the fault proxy
// (fault_proxy.h) decides what to do with a connection or a chunk under it.
// The kernel here has no netem, so faults are made in user space at the
// level a client can see: a connection and the bytes on it.
//
//   none        bytes pass as they come
//   delay D     every chunk, each way, is passed D after it arrived
//   drop P      each new connection is reset at once with probability P
//               (0 < P <= 1); at 1 the open ones are reset too: a cut link
//   blackhole   nothing passes and nothing is refused: reads stop, new
//               connections wait unanswered (a hang); lifted, it all resumes
//   half-open   the far end is gone without a FIN: an open connection looks
//               open until the client sends, then gets a reset; new ones are
//               reset at once
//
// Pure: no sockets, no clock; the random draw is the caller's.
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace failover::drill {

struct Fault {
  enum class Kind { kNone, kDelay, kDrop, kBlackhole, kHalfOpen };
  Kind kind = Kind::kNone;
  core::Duration delay{0};  // kDelay
  double drop = 0;          // kDrop: 0 < drop <= 1

  bool operator==(const Fault&) const = default;
};

// "none", "delay 100ms", "drop 0.3", "blackhole", "half-open"; an error says
// what is wrong. to_string() gives the same form back.
core::Result<Fault> parse_fault(std::string_view text);
std::string to_string(const Fault& fault);

// A new connection: pass it on (connect upstream), hold it (accepted, no
// upstream yet, until the fault changes) or reset it.
enum class Verdict { kPass, kHold, kReset };
// `draw` is uniform in [0, 1), drawn by the caller for this connection.
Verdict on_connect(const Fault& fault, double draw);

// A chunk read from the client (toward upstream) or from upstream.
enum class Direction { kToUpstream, kToClient };
// kPass: forward it after `fault.delay` (0 unless kDelay); kHold: keep it
// and stop reading until the fault changes; kReset: reset the client's
// connection (half-open: the client wrote to a peer that is gone). A chunk
// from upstream under half-open never comes: its socket was closed.
Verdict on_chunk(const Fault& fault, Direction direction);

// Whether setting `fault` ends the open connections at once (a cut link),
// and whether it closes their upstream side silently (half-open).
bool resets_open_connections(const Fault& fault);
bool drops_upstream_silently(const Fault& fault);

}  // namespace failover::drill
