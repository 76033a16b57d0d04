#include "store/vip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace failover::store {

std::optional<VipConfig> parse_vip_address(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string ip(text.substr(0, slash));
  const std::string_view prefix = text.substr(slash + 1);
  in_addr addr{};
  if (::inet_pton(AF_INET, ip.c_str(), &addr) != 1) return std::nullopt;
  int bits = -1;
  const auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
  if (ec != std::errc() || end != prefix.data() + prefix.size() || prefix.empty() || bits < 0 || bits > 32)
    return std::nullopt;
  VipConfig c;
  c.address = std::string(text);
  c.ipv4 = ntohl(addr.s_addr);
  return c;
}

bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '.' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<VipPlan::Step> VipPlan::tick(core::TimePoint now, bool serving) {
  std::vector<Step> steps;
  const auto reached = [now](const std::optional<core::TimePoint>& at) { return !at || *at <= now; };
  if (serving && !held_ && reached(add_again_at_)) {
    held_ = true;
    add_again_at_.reset();
    remove_again_at_.reset();
    steps.push_back(Step::kAdd);
    announce_at_.clear();
    for (core::Duration d : kAnnounceAfter) announce_at_.push_back(now + d);
  } else if (!serving && held_) {
    held_ = false;
    announce_at_.clear();
    steps.push_back(Step::kRemove);
  } else if (!serving && remove_again_at_ && reached(remove_again_at_)) {
    remove_again_at_.reset();
    steps.push_back(Step::kRemove);
  }
  // One announcement a tick, however many are due: they are for hosts
  // that missed the one before.
  bool due = false;
  while (!announce_at_.empty() && announce_at_.front() <= now) {
    announce_at_.pop_front();
    due = true;
  }
  if (due) steps.push_back(Step::kAnnounce);
  return steps;
}

void VipPlan::failed(Step step, core::TimePoint now) {
  const core::TimePoint again = now + retry_;
  retry_ = std::min(2 * retry_, kMaxRetry);
  if (step == Step::kAdd && held_) {
    // Not held after all: announce nothing, add again while serving. An
    // add killed part-way may have left the address: removed at once if the
    // node no longer serves (a remove is harmless when it is not there).
    held_ = false;
    announce_at_.clear();
    add_again_at_ = again;
    remove_again_at_ = now;
  } else if (step == Step::kRemove && !held_) {
    remove_again_at_ = again;
  }
}

void VipPlan::succeeded(Step step) {
  if (step == Step::kAdd || step == Step::kRemove) retry_ = kFirstRetry;
}

std::array<std::uint8_t, 42> gratuitous_arp(const std::array<std::uint8_t, 6>& mac, std::uint32_t ipv4) {
  std::array<std::uint8_t, 42> f{};
  std::size_t i = 0;
  auto put = [&](std::initializer_list<std::uint8_t> bytes) {
    for (std::uint8_t b : bytes) f[i++] = b;
  };
  auto put_mac = [&](const std::array<std::uint8_t, 6>& m) {
    for (std::uint8_t b : m) f[i++] = b;
  };
  auto put_ip = [&] {
    put({static_cast<std::uint8_t>(ipv4 >> 24), static_cast<std::uint8_t>(ipv4 >> 16),
         static_cast<std::uint8_t>(ipv4 >> 8), static_cast<std::uint8_t>(ipv4)});
  };
  put({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});  // Ethernet: to everyone
  put_mac(mac);                                // from this interface
  put({0x08, 0x06});                           // ARP
  put({0x00, 0x01, 0x08, 0x00, 6, 4});         // Ethernet, IPv4, their lengths
  put({0x00, 0x01});                           // a request
  put_mac(mac);                                // sender: this MAC has
  put_ip();                                    //   the address
  put({0, 0, 0, 0, 0, 0});                     // target MAC: unknown
  put_ip();                                    // target: the address itself
  return f;
}

}  // namespace failover::store
