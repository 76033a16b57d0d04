#pragma once
// The I/O of the VIP (vip.h): `ip addr add|del ADDRESS dev INTERFACE` run
// as child processes one at a time, in the order asked (an add never
// overtakes the remove before it), and gratuitous ARP sent on a raw
// packet socket. Needs CAP_NET_ADMIN and CAP_NET_RAW (root, or the
// capabilities given to the binary); without them it logs each failure and
// the store goes on without its VIP. On the io thread; never blocks it,
// except in the destructor, which gives the address up before the process
// ends.
#include <sys/types.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "store/vip.h"

namespace failover::store {

class VipDriver {
 public:
  explicit VipDriver(VipConfig config) : config_(std::move(config)) {}
  ~VipDriver();
  VipDriver(const VipDriver&) = delete;
  VipDriver& operator=(const VipDriver&) = delete;

  // At start-up: the address as a killed node may have left it (an error
  // saying it was not there is expected).
  void release_leftover();
  // On every tick of the node: `serving` as primary or not.
  void tick(core::TimePoint now, bool serving);

  bool held() const { return plan_.held(); }
  const VipConfig& config() const { return config_; }
  std::uint64_t announcements() const { return announcements_; }

 private:
  struct Command {
    std::vector<std::string> argv;
    bool quiet = false;  // a failure is expected (the leftover check)
  };
  std::vector<std::string> ip_addr(const char* verb) const;
  void pump();
  void announce();

  VipConfig config_;
  VipPlan plan_;
  std::deque<Command> queue_;
  std::optional<pid_t> running_;
  Command running_command_;
  std::uint64_t announcements_ = 0;
  bool ever_added_ = false;  // the destructor removes the address then
};

}  // namespace failover::store
