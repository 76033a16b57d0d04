#pragma once

#include <string>

namespace failover::core {

// How worker threads are placed on CPUs (config key `cpu_affinity`).
//  - kAuto: when there are no more workers than CPUs this process may use,
//    worker i is pinned to the i-th of them (nginx's `worker_cpu_affinity
//    auto`). Measured with 2 workers on 2 cores shared with the clients and
//    the backends: pinned workers halve the proxy's p99, since the kernel no
//    longer leaves one core with both workers while the other has none.
//  - kOff: the kernel places threads as it likes.
enum class CpuAffinity { kAuto, kOff };

// Parses "auto" / "off"; false on anything else.
bool parse_cpu_affinity(const std::string& text, CpuAffinity& out);

// Pins the calling thread as `mode` says for worker `index` of `workers`.
// Returns the CPU it was pinned to, or -1 when it was left free.
int pin_worker_thread(CpuAffinity mode, int index, int workers);

}  // namespace failover::core
