#pragma once
// The I/O of the VIP (vip.h): `ip addr replace ADDRESS dev INTERFACE` to
// add and `ip addr flush dev INTERFACE to IP/32` to remove, both idempotent
// (so a failure is a real one, tried again by the plan), run as child
// processes one at a time, in the order asked (an add never overtakes the
// remove before it), each killed after kCommandTimeout (a hung `ip` holds
// up no later step); and gratuitous ARP sent on a raw packet socket. Needs
// CAP_NET_ADMIN and CAP_NET_RAW (root, or the capabilities given to the
// binary); without them it logs each failure and the store goes on without
// its VIP. On the io thread; never blocks it, except in the destructor,
// which gives the address up before the process ends (at most
// 2 x kCommandTimeout).
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

  // At start-up: removes the address as a killed node may have left it
  // (not tried again: nothing wants it gone but this check).
  void release_leftover(core::TimePoint now);
  // On every tick of the node: `serving` as primary or not.
  void tick(core::TimePoint now, bool serving);

  static constexpr core::Duration kCommandTimeout = std::chrono::seconds(5);

  bool held() const { return plan_.held(); }
  bool command_running() const { return running_.has_value(); }
  const VipConfig& config() const { return config_; }
  std::uint64_t announcements() const { return announcements_; }

 private:
  struct Command {
    std::vector<std::string> argv;
    std::optional<VipPlan::Step> step;  // what the plan asked; none for the leftover check
  };
  std::vector<std::string> add_command() const;
  std::vector<std::string> remove_command() const;
  // Reaps the command that ran (killing it past kCommandTimeout) and starts
  // the next one.
  void pump(core::TimePoint now);
  void finished(core::TimePoint now, int wait_status);
  void announce();

  VipConfig config_;
  VipPlan plan_;
  std::deque<Command> queue_;
  std::optional<pid_t> running_;
  core::TimePoint running_since_{};
  Command running_command_;
  std::uint64_t announcements_ = 0;
  bool ever_added_ = false;  // the destructor removes the address then
};

}  // namespace failover::store
