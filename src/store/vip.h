#pragma once
// The virtual IP that follows the primary, as keepalived's:
// `vip: {address: 10.0.0.100/24, interface: eth0}`. A node holds it while it
// serves as primary (its role, its lease) and gives it up as soon as it
// does not: stepping down, or its lease lapsing while cut off. Taking it,
// the node announces it with gratuitous ARP, several times (a switch or a
// client that missed the first keeps the old owner's MAC for minutes:
// keepalived's complaint list is full of it).
//
// VipPlan is the pure part: whether to add, remove or announce, from the
// node's serving state, the time and how the last steps ended (a failed one
// is tried again). The store node does the I/O: `ip addr replace|flush` as
// a child process, one at a time in order (vip_driver.h), and the ARP
// frames on a raw socket.
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace failover::store {

struct VipConfig {
  std::string address;    // "10.0.0.100/24", as `ip addr add` takes it
  std::uint32_t ipv4 = 0; // the address alone, host order
  std::string interface;  // "eth0"
  bool operator==(const VipConfig&) const = default;
};

// "10.0.0.100/24" -> the config's address fields; nullopt when it is not
// an IPv4 address with a prefix length.
std::optional<VipConfig> parse_vip_address(std::string_view text);
// A Linux interface name: 1 to 15 of [A-Za-z0-9_.-].
bool valid_interface_name(std::string_view name);

class VipPlan {
 public:
  enum class Step { kAdd, kRemove, kAnnounce };
  // After an add: announce at once, then again, as keepalived's
  // garp_master_repeat and garp_master_delay do.
  static constexpr std::array<core::Duration, 5> kAnnounceAfter{
      core::Duration(0), std::chrono::milliseconds(100), std::chrono::milliseconds(500), std::chrono::seconds(1),
      std::chrono::seconds(2)};

  // A step that failed is tried again after 1 s, then 2, 4 ... up to 30 s
  // while it is still wanted; a success resets the wait.
  static constexpr core::Duration kFirstRetry = std::chrono::seconds(1);
  static constexpr core::Duration kMaxRetry = std::chrono::seconds(30);

  // What to do now, given whether this node serves as primary.
  std::vector<Step> tick(core::TimePoint now, bool serving);
  // How the add or remove tick() asked for ended (the driver says).
  void failed(Step step, core::TimePoint now);
  void succeeded(Step step);
  // Whether the address is (being) added: as far as this node knows, it has it.
  bool held() const { return held_; }

 private:
  bool held_ = false;
  std::deque<core::TimePoint> announce_at_;
  std::optional<core::TimePoint> add_again_at_;     // after a failed add
  std::optional<core::TimePoint> remove_again_at_;  // after a failed remove
  core::Duration retry_ = kFirstRetry;              // the next wait after a failure
};

// A gratuitous ARP request (as `arping -U`): from `mac`, to the broadcast
// address, asking for `ipv4` (host order) on behalf of `ipv4`, so every
// host on the segment updates its entry for the address.
std::array<std::uint8_t, 42> gratuitous_arp(const std::array<std::uint8_t, 6>& mac, std::uint32_t ipv4);

}  // namespace failover::store
