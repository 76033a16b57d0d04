#include "store/vip_driver.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>

#include "store/child_process.h"

namespace failover::store {

namespace {
std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}
}  // namespace

VipDriver::~VipDriver() {
  if (running_) ::waitpid(*running_, nullptr, 0);
  // Whatever is still queued, the node is going: remove the address if it
  // may be there (removing one that is not fails harmlessly).
  if (!ever_added_) return;
  // The process is ending: give the address up now, not on the next start.
  core::Result<pid_t> pid = spawn_child(ip_addr("del"));
  if (pid) ::waitpid(*pid, nullptr, 0);
}

std::vector<std::string> VipDriver::ip_addr(const char* verb) const {
  return {"ip", "addr", verb, config_.address, "dev", config_.interface};
}

void VipDriver::release_leftover() {
  queue_.push_back({ip_addr("del"), true});
  pump();
}

void VipDriver::tick(core::TimePoint now, bool serving) {
  for (VipPlan::Step step : plan_.tick(now, serving)) {
    switch (step) {
      case VipPlan::Step::kAdd:
        spdlog::info("store: vip: taking {} on {}", config_.address, config_.interface);
        queue_.push_back({ip_addr("add"), false});
        ever_added_ = true;
        break;
      case VipPlan::Step::kRemove:
        spdlog::info("store: vip: giving up {} on {}", config_.address, config_.interface);
        queue_.push_back({ip_addr("del"), false});
        break;
      case VipPlan::Step::kAnnounce:
        announce();
        break;
    }
  }
  pump();
}

void VipDriver::pump() {
  if (running_) {
    const std::optional<int> status = reap_if_done(*running_);
    if (!status) return;
    running_.reset();
    if (const std::string how = describe_exit(*status); !how.empty() && !running_command_.quiet)
      spdlog::error("store: vip: '{}' {}", joined(running_command_.argv), how);
  }
  if (queue_.empty()) return;
  running_command_ = std::move(queue_.front());
  queue_.pop_front();
  core::Result<pid_t> pid = spawn_child(running_command_.argv);
  if (!pid) {
    spdlog::error("store: vip: {}", pid.error().to_string());
    return;
  }
  running_ = *pid;
}

void VipDriver::announce() {
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) {
    spdlog::error("store: vip: no gratuitous ARP for {}: socket: {}", config_.address, std::strerror(errno));
    return;
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, config_.interface.c_str(), IFNAMSIZ - 1);
  const unsigned index = ::if_nametoindex(config_.interface.c_str());
  if (index == 0 || ::ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
    spdlog::error("store: vip: no gratuitous ARP on {}: {}", config_.interface, std::strerror(errno));
    ::close(fd);
    return;
  }
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
  const auto frame = gratuitous_arp(mac, config_.ipv4);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = static_cast<int>(index);
  to.sll_halen = ETH_ALEN;
  std::memset(to.sll_addr, 0xff, ETH_ALEN);
  if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0)
    spdlog::error("store: vip: gratuitous ARP on {}: {}", config_.interface, std::strerror(errno));
  else
    ++announcements_;
  ::close(fd);
}

}  // namespace failover::store
