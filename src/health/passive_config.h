#pragma once
#include <chrono>

namespace failover::health {

// Passive (outlier) detection, nginx's max_fails/fail_timeout: `max_fails`
// failed attempts within `fail_timeout` eject a server for `fail_timeout`,
// doubled on each ejection that follows soon after the last one.
// max_fails = 0 turns passive detection off.
struct PassiveConfig {
  int max_fails = 1;
  std::chrono::milliseconds fail_timeout{10'000};
  std::chrono::milliseconds max_ejection{300'000};  // cap of the doubling
};

}  // namespace failover::health
