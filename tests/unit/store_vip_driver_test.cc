// VipDriver with a fake `ip` first in PATH: the commands it runs, a hung one
// killed after kCommandTimeout (on the test's clock) and the step tried
// again. The fake is a real child process, so the test waits for it to
// start and end (bounded), but never for a timer.
#include "store/vip_driver.h"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp, setenv

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace failover::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const core::TimePoint t0 = core::TimePoint(1h);

class VipDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vip_driver_test.XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    // Logs its arguments, then does what the mode file says.
    std::ofstream ip(dir_ / "ip");
    ip << "#!/bin/sh\necho \"$*\" >> " << (dir_ / "calls") << "\n"
       << "case $(cat " << (dir_ / "mode") << ") in hang) exec sleep 600;; fail) exit 1;; esac\n";
    ip.close();
    fs::permissions(dir_ / "ip", fs::perms::owner_all);
    set_mode("ok");
    old_path_ = std::getenv("PATH");
    ::setenv("PATH", (dir_.string() + ":" + old_path_).c_str(), 1);
    config_ = *parse_vip_address("10.0.0.100/24");
    config_.interface = "vip-test0";  // no such interface: the ARP fails, logged
  }
  void TearDown() override {
    ::setenv("PATH", old_path_.c_str(), 1);
    fs::remove_all(dir_);
  }

  void set_mode(const std::string& mode) { std::ofstream(dir_ / "mode") << mode << "\n"; }

  std::vector<std::string> calls() const {
    std::ifstream in(dir_ / "calls");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Ticks `d` at `now` until `done` (bounded): the fake is a real process.
  template <class Done>
  void tick_until(VipDriver& d, core::TimePoint now, bool serving, Done done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < until) {
      d.tick(now, serving);
      std::this_thread::yield();
    }
    ASSERT_TRUE(done());
  }
  // Until the fake has been called `n` times in all (it logs first) and
  // that call has ended.
  void until_called(VipDriver& d, core::TimePoint now, bool serving, size_t n) {
    tick_until(d, now, serving, [&] { return calls().size() >= n && !d.command_running(); });
    EXPECT_EQ(calls().size(), n);
  }

  fs::path dir_;
  std::string old_path_;
  VipConfig config_;
};

TEST_F(VipDriverTest, AddsAndRemovesWithIdempotentCommands) {
  {
    VipDriver d(config_);
    d.release_leftover(t0);
    d.tick(t0, true);
    EXPECT_TRUE(d.held());
    until_called(d, t0, true, 2);
    d.tick(t0 + 1s, false);
    EXPECT_FALSE(d.held());
    until_called(d, t0 + 1s, false, 3);
  }  // the destructor gives the address up once more
  EXPECT_EQ(calls(), (std::vector<std::string>{"addr flush dev vip-test0 to 10.0.0.100/32",
                                               "addr replace 10.0.0.100/24 dev vip-test0",
                                               "addr flush dev vip-test0 to 10.0.0.100/32",
                                               "addr flush dev vip-test0 to 10.0.0.100/32"}));
}

TEST_F(VipDriverTest, AHungIpIsKilledAndTheAddTriedAgain) {
  VipDriver d(config_);
  set_mode("hang");
  tick_until(d, t0, true, [&] { return calls().size() == 1; });
  d.tick(t0 + 1s, true);
  EXPECT_TRUE(d.held());  // still running: as far as it knows, being added
  set_mode("ok");
  d.tick(t0 + VipDriver::kCommandTimeout, true);  // killed, failed
  EXPECT_FALSE(d.held());
  d.tick(t0 + VipDriver::kCommandTimeout + 500ms, true);
  EXPECT_EQ(calls().size(), 1u);  // the next try waits its second
  d.tick(t0 + VipDriver::kCommandTimeout + 1s, true);
  EXPECT_TRUE(d.held());
  until_called(d, t0 + VipDriver::kCommandTimeout + 1s, true, 2);
  EXPECT_EQ(calls()[1], "addr replace 10.0.0.100/24 dev vip-test0");
}

TEST_F(VipDriverTest, AFailedRemoveIsTriedAgain) {
  VipDriver d(config_);
  d.tick(t0, true);
  until_called(d, t0, true, 1);
  set_mode("fail");
  d.tick(t0 + 1s, false);
  until_called(d, t0 + 1s, false, 2);  // the remove, failed
  set_mode("ok");
  d.tick(t0 + 1500ms, false);
  EXPECT_EQ(calls().size(), 2u);
  d.tick(t0 + 2s, false);
  until_called(d, t0 + 2s, false, 3);
  EXPECT_EQ(calls()[2], "addr flush dev vip-test0 to 10.0.0.100/32");
}

}  // namespace
}  // namespace failover::store
