// One suite, every arbiter: the witness (`failover witness`, through
// WitnessClient) and an etcd key (Debian's etcd, through EtcdArbiter), each
// a real process on loopback. Both must keep the same contract (arbiter.h):
// a read gives the record; a compare-and-set on the current version applies
// and is durable across a restart; on a stale version it is kConflict and
// says what won; a transition check_transition() forbids is kInvalid and
// changes nothing; of two clients racing from one version exactly one wins;
// an arbiter that cannot be reached is kUnavailable. A backend whose binary
// is missing is skipped with a message.
//
//   FAILOVER_BINARY=build/failover build/contract_tests
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/etcd_arbiter.h"
#include "arbiter/witness_client.h"

extern char** environ;

namespace failover::arbiter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

unsigned short free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::string addr(unsigned short port) { return "127.0.0.1:" + std::to_string(port); }

bool port_open(unsigned short port) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  return !ec;
}

// A child process, stopped (SIGTERM, then SIGKILL) by its PID when destroyed.
class Process {
 public:
  explicit Process(std::vector<std::string> argv, const std::string& log) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() { stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  bool started() const { return pid_ > 0; }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// One arbiter as a process, and clients of it.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // "" when it can run here, else why not (the test is skipped).
  virtual std::string missing() const = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual std::unique_ptr<Arbiter> client(asio::io_context& io) = 0;
  // A client of an address where nothing listens.
  virtual std::unique_ptr<Arbiter> client_of_nothing(asio::io_context& io) = 0;

 protected:
  static std::filesystem::path temp_dir(const std::string& what) {
    auto d = std::filesystem::temp_directory_path() /
             ("failover-contract-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(free_port()));
    std::filesystem::create_directories(d);
    return d;
  }
  static bool wait_port(unsigned short port) {
    for (int i = 0; i < 200; ++i) {
      if (port_open(port)) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

class WitnessBackend final : public Backend {
 public:
  WitnessBackend() : binary_(std::getenv("FAILOVER_BINARY") ? std::getenv("FAILOVER_BINARY") : "") {}
  ~WitnessBackend() override {
    process_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string name() const override { return "witness"; }
  std::string missing() const override {
    return binary_.empty() ? "FAILOVER_BINARY is not set (the path of build/failover)" : "";
  }
  void start() override {
    if (dir_.empty()) {
      dir_ = temp_dir("witness");
      port_ = free_port();
      std::ofstream(dir_ / "witness.yaml") << "witness:\n  listen: " << addr(port_) << "\n  data_dir: " << (dir_ / "data").string()
                                           << "\n";
    }
    process_ = std::make_unique<Process>(
        std::vector<std::string>{binary_, "witness", "--config", (dir_ / "witness.yaml").string()},
        (dir_ / "witness.log").string());
    ASSERT_TRUE(process_->started() && wait_port(port_)) << "the witness did not start";
  }
  void stop() override { process_.reset(); }
  std::unique_ptr<Arbiter> client(asio::io_context& io) override {
    return std::make_unique<WitnessClient>(io.get_executor(), addr(port_), 2000ms);
  }
  std::unique_ptr<Arbiter> client_of_nothing(asio::io_context& io) override {
    return std::make_unique<WitnessClient>(io.get_executor(), addr(free_port()), 2000ms);
  }

 private:
  std::string binary_;
  std::filesystem::path dir_;
  unsigned short port_ = 0;
  std::unique_ptr<Process> process_;
};

class EtcdBackend final : public Backend {
 public:
  ~EtcdBackend() override {
    process_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string name() const override { return "etcd"; }
  std::string missing() const override {
    return std::filesystem::exists(kEtcd) ? "" : std::string(kEtcd) + " is missing (apt-get install etcd-server)";
  }
  void start() override {
    if (dir_.empty()) {
      dir_ = temp_dir("etcd");
      client_port_ = free_port();
      peer_port_ = free_port();
    }
    const std::string client_url = "http://" + addr(client_port_), peer_url = "http://" + addr(peer_port_);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{kEtcd, "--name", "contract", "--data-dir", (dir_ / "data").string(),
                                 "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
                                 "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                                 "--initial-cluster", "contract=" + peer_url, "--log-level", "error"},
        (dir_ / "etcd.log").string());
    ASSERT_TRUE(process_->started() && wait_port(client_port_)) << "etcd did not start";
  }
  void stop() override { process_.reset(); }
  std::unique_ptr<Arbiter> client(asio::io_context& io) override {
    return std::make_unique<EtcdArbiter>(io.get_executor(), std::vector<std::string>{"http://" + addr(client_port_)},
                                         "/failover/contract", 2000ms);
  }
  std::unique_ptr<Arbiter> client_of_nothing(asio::io_context& io) override {
    return std::make_unique<EtcdArbiter>(io.get_executor(), std::vector<std::string>{"http://" + addr(free_port())},
                                         "/failover/contract", 2000ms);
  }

 private:
  static constexpr const char* kEtcd = "/usr/bin/etcd";
  std::filesystem::path dir_;
  unsigned short client_port_ = 0, peer_port_ = 0;
  std::unique_ptr<Process> process_;
};

template <class T>
T run(asio::io_context& io, asio::awaitable<T> a) {
  std::optional<T> out;
  io.restart();
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    EXPECT_FALSE(e) << "the coroutine threw";
    out = std::move(v);
  });
  io.run();
  EXPECT_TRUE(out.has_value());
  return std::move(out).value_or(T{});
}

// The record a new cluster's first primary makes of the one the arbiter
// was created with.
Record first_primary(const Record& r, const std::string& node) {
  Record next = r;
  next.version = r.version + 1;
  next.epoch = r.epoch + 1;
  next.primary = node;
  next.in_sync = {{node, "disk-" + node}};
  return next;
}

class ArbiterContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "witness") backend_ = std::make_unique<WitnessBackend>();
    else backend_ = std::make_unique<EtcdBackend>();
    if (const std::string why = backend_->missing(); !why.empty()) GTEST_SKIP() << why;
    backend_->start();
  }
  core::Result<Record> read(Arbiter& a) { return run(io_, a.read()); }
  CasAnswer cas(Arbiter& a, std::uint64_t expected, Record proposed) {
    return run(io_, a.compare_and_set(expected, std::move(proposed)));
  }
  // The record as it starts: created by the arbiter for a new cluster.
  Record initial(Arbiter& a) {
    auto r = read(a);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? *r : Record{};
  }

  asio::io_context io_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(ArbiterContract, ANewClustersRecordHasAnIdAndNoPrimary) {
  auto a = backend_->client(io_);
  const Record r = initial(*a);
  EXPECT_FALSE(r.cluster_id.empty());
  EXPECT_EQ(r.epoch, 0u);
  EXPECT_TRUE(r.primary.empty());
  EXPECT_EQ(read(*a).value_or(Record{}), r) << "a second read gives the same record";
}

TEST_P(ArbiterContract, ACompareAndSetOnTheCurrentVersionAppliesAndOutlivesARestart) {
  auto a = backend_->client(io_);
  const Record r = initial(*a);
  const Record next = first_primary(r, "a");
  CasAnswer done = cas(*a, r.version, next);
  ASSERT_TRUE(done.result.ok()) << done.result.error().to_string();
  EXPECT_EQ(*done.result, next);
  a.reset();
  backend_->stop();
  backend_->start();
  auto again = backend_->client(io_);
  auto after = read(*again);
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_EQ(*after, next) << "the change did not survive a restart of the " << backend_->name();
}

TEST_P(ArbiterContract, AStaleVersionIsAConflictThatSaysWhatWon) {
  auto a = backend_->client(io_);
  const Record r = initial(*a);
  ASSERT_TRUE(cas(*a, r.version, first_primary(r, "a")).result.ok());
  auto b = backend_->client(io_);  // a second client, which last saw nothing
  CasAnswer late = cas(*b, r.version, first_primary(r, "b"));
  ASSERT_FALSE(late.result.ok());
  EXPECT_EQ(late.result.error().code, core::ErrorCode::kConflict) << late.result.error().to_string();
  ASSERT_TRUE(late.current.has_value());
  EXPECT_EQ(late.current->primary, "a");
  EXPECT_EQ(read(*b).value_or(Record{}).primary, "a");
}

TEST_P(ArbiterContract, AForbiddenTransitionIsInvalidAndChangesNothing) {
  auto a = backend_->client(io_);
  const Record r = initial(*a);
  const Record primary_a = first_primary(r, "a");
  ASSERT_TRUE(cas(*a, r.version, primary_a).result.ok());
  // b was never in in_sync: promoting it could lose acknowledged writes.
  Record promote_b = primary_a;
  promote_b.version = primary_a.version + 1;
  promote_b.epoch = primary_a.epoch + 1;
  promote_b.primary = "b";
  promote_b.in_sync = {{"b", "disk-b"}};
  CasAnswer refused = cas(*a, primary_a.version, promote_b);
  ASSERT_FALSE(refused.result.ok());
  EXPECT_EQ(refused.result.error().code, core::ErrorCode::kInvalid) << refused.result.error().to_string();
  // Another cluster's id, or an epoch going down: refused too.
  Record foreign = primary_a;
  foreign.version = primary_a.version + 1;
  foreign.cluster_id = "another-cluster";
  EXPECT_EQ(cas(*a, primary_a.version, foreign).result.error().code, core::ErrorCode::kInvalid);
  EXPECT_EQ(read(*a).value_or(Record{}), primary_a);
}

TEST_P(ArbiterContract, OfTwoClientsRacingFromOneVersionExactlyOneWins) {
  auto a = backend_->client(io_);
  auto b = backend_->client(io_);
  const Record r = initial(*a);
  (void)read(*b);
  std::optional<CasAnswer> got_a, got_b;
  io_.restart();
  asio::co_spawn(io_, a->compare_and_set(r.version, first_primary(r, "a")),
                 [&](std::exception_ptr, CasAnswer x) { got_a = std::move(x); });
  asio::co_spawn(io_, b->compare_and_set(r.version, first_primary(r, "b")),
                 [&](std::exception_ptr, CasAnswer x) { got_b = std::move(x); });
  io_.run();
  ASSERT_TRUE(got_a && got_b);
  EXPECT_NE(got_a->result.ok(), got_b->result.ok()) << "both or neither won";
  const std::string winner = got_a->result.ok() ? "a" : "b";
  const CasAnswer& loser = got_a->result.ok() ? *got_b : *got_a;
  EXPECT_EQ(loser.result.error().code, core::ErrorCode::kConflict) << loser.result.error().to_string();
  EXPECT_EQ(read(*a).value_or(Record{}).primary, winner);
}

TEST_P(ArbiterContract, AnArbiterNobodyAnswersForIsUnavailable) {
  auto nowhere = backend_->client_of_nothing(io_);
  auto r = read(*nowhere);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::ErrorCode::kUnavailable) << r.error().to_string();
  CasAnswer c = cas(*nowhere, 1, Record{});
  ASSERT_FALSE(c.result.ok());
  EXPECT_EQ(c.result.error().code, core::ErrorCode::kUnavailable) << "certainly not applied";
}

INSTANTIATE_TEST_SUITE_P(Arbiters, ArbiterContract, ::testing::Values("witness", "etcd"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace failover::arbiter
