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

// Waits for `pid` at most `timeout` (polling: only the destructor blocks),
// then kills its process group; its wait status.
int wait_at_most(pid_t pid, core::Duration timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (std::optional<int> status = reap_if_done(pid)) return *status;
    ::usleep(10'000);
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}
VipDriver::~VipDriver() {
  if (running_) wait_at_most(*running_, kCommandTimeout);
  // Whatever is still queued, the node is going: remove the address if it
  // may be there.
  if (!ever_added_) return;
  // The process is ending: give the address up now, not on the next start.
  core::Result<pid_t> pid = spawn_child(remove_command());
  if (pid) wait_at_most(*pid, kCommandTimeout);
}

std::vector<std::string> VipDriver::add_command() const {
  return {"ip", "addr", "replace", config_.address, "dev", config_.interface};
}

std::vector<std::string> VipDriver::remove_command() const {
  // Every address of the interface that is this IP, whatever its prefix
  // length; succeeds when there is none.
  const std::string ip = config_.address.substr(0, config_.address.find('/'));
  return {"ip", "addr", "flush", "dev", config_.interface, "to", ip + "/32"};
}

void VipDriver::release_leftover(core::TimePoint now) {
  queue_.push_back({remove_command(), std::nullopt});
  pump(now);
}

void VipDriver::tick(core::TimePoint now, bool serving) {
  for (VipPlan::Step step : plan_.tick(now, serving)) {
    switch (step) {
      case VipPlan::Step::kAdd:
        spdlog::info("store: vip: taking {} on {}", config_.address, config_.interface);
        queue_.push_back({add_command(), step});
        ever_added_ = true;
        break;
      case VipPlan::Step::kRemove:
        spdlog::info("store: vip: giving up {} on {}", config_.address, config_.interface);
        queue_.push_back({remove_command(), step});
        break;
      case VipPlan::Step::kAnnounce:
        announce();
        break;
    }
  }
  pump(now);
}

void VipDriver::pump(core::TimePoint now) {
  if (running_) {
    std::optional<int> status = reap_if_done(*running_);
    if (!status && now - running_since_ < kCommandTimeout) return;
    if (!status) {
      spdlog::error("store: vip: '{}' still runs after {} ms: killed", joined(running_command_.argv),
                    std::chrono::duration_cast<std::chrono::milliseconds>(kCommandTimeout).count());
      ::kill(-*running_, SIGKILL);
      int killed = 0;
      ::waitpid(*running_, &killed, 0);
      status = killed;
    }
    running_.reset();
    finished(now, *status);
  }
  while (!queue_.empty() && !running_) {
    running_command_ = std::move(queue_.front());
    queue_.pop_front();
    core::Result<pid_t> pid = spawn_child(running_command_.argv);
    if (!pid) {
      spdlog::error("store: vip: {}", pid.error().to_string());
      if (running_command_.step) plan_.failed(*running_command_.step, now);
      continue;
    }
    running_ = *pid;
    running_since_ = now;
  }
}

void VipDriver::finished(core::TimePoint now, int wait_status) {
  const std::string how = describe_exit(wait_status);
  if (!running_command_.step) return;  // the leftover check
  if (how.empty()) {
    plan_.succeeded(*running_command_.step);
    return;
  }
  spdlog::error("store: vip: '{}' {}; trying again", joined(running_command_.argv), how);
  plan_.failed(*running_command_.step, now);
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
