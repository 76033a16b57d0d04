#include "core/cpu_affinity.h"

#include <pthread.h>
#include <sched.h>

namespace failover::core {

bool parse_cpu_affinity(const std::string& text, CpuAffinity& out) {
  if (text == "auto") out = CpuAffinity::kAuto;
  else if (text == "off") out = CpuAffinity::kOff;
  else return false;
  return true;
}

int pin_worker_thread(CpuAffinity mode, int index, int workers) {
  if (mode == CpuAffinity::kOff) return -1;
  // The set this process was started with (taskset, cgroups) is the one to
  // share out, not every CPU of the machine.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
  if (workers > CPU_COUNT(&allowed)) return -1;  // pinning would stack workers on a core
  int seen = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (seen++ != index) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0 ? cpu : -1;
  }
  return -1;
}

}  // namespace failover::core
