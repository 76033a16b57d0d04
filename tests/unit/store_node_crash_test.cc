// The whole node driver (StoreNode: HTTP API, group commit, LogWriter
// thread, RocksDB apply) on a file system that drops what was not fsynced:
// writes go in, the machine crashes at a random moment, the node starts
// again on what survived, and every write it acknowledged is there. This is
// the node-level counterpart of store_log_crash_test (the log alone) and of
// store_replica_test (the protocol without a disk).
//
// One node and no peers: it is its own in_sync, so a write is acknowledged
// once its own fsync is done, which is exactly the rule under test.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "arbiter/arbiter.h"
#include "core/clock.h"
#include "store/kv_state.h"
#include "store/node.h"
#include "support/faulty_file_system.h"
#include "support/manual_time.h"

namespace failover::store {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// The arbiter's record in memory, outliving every node of the test.
struct SharedRecord {
  arbiter::Record record{"cluster-crash", 1, 0, "", {}};
};

class MemoryArbiter final : public arbiter::Arbiter {
 public:
  explicit MemoryArbiter(SharedRecord& shared) : shared_(shared) {}
  asio::awaitable<core::Result<arbiter::Record>> read() override { co_return shared_.record; }
  asio::awaitable<arbiter::CasAnswer> compare_and_set(std::uint64_t expected, arbiter::Record proposed) override {
    if (shared_.record.version != expected)
      co_return arbiter::CasAnswer{core::Error::conflict("version moved"), shared_.record};
    if (auto allowed = arbiter::check_transition(shared_.record, proposed); !allowed)
      co_return arbiter::CasAnswer{allowed.error(), std::nullopt};
    shared_.record = std::move(proposed);
    co_return arbiter::CasAnswer{shared_.record, std::nullopt};
  }

 private:
  SharedRecord& shared_;
};

// One life of the node: its io_context, clock and StoreNode.
class Life {
 public:
  Life(test::FaultyFileSystem& fs, SharedRecord& record, const std::string& data_dir) {
    StoreConfig config;
    config.node = "a";
    config.data_dir = data_dir;
    node_ = std::make_unique<StoreNode>(io_, config, clock_, fs, std::make_unique<MemoryArbiter>(record));
  }
  // The writer thread first (it posts to io_); then, by the order of the
  // members, the node, the coroutines still asleep in io_ (destroyed, never
  // resumed) and the clock they sleep on.
  ~Life() { node_->stop(); }

  core::Result<void> open() { return node_->open(); }
  void start() { node_->start(); }

  // Sends a request; its status lands in `*status` when answered.
  void request(std::string method, std::string key, std::string body, std::shared_ptr<int> status,
               std::shared_ptr<std::string> reply = nullptr, std::string idempotency_key = "") {
    net::HttpRequest r;
    if (!idempotency_key.empty()) r.headers.emplace_back("Idempotency-Key", std::move(idempotency_key));
    r.method = std::move(method);
    r.path = r.target = "/kv/" + key;
    r.body = std::move(body);
    asio::co_spawn(
        io_,
        [this, r = std::move(r), status, reply]() mutable -> asio::awaitable<void> {
          std::optional<net::HttpResponse> answer = co_await node_->handle(r);
          if (reply && answer) *reply = answer->body;
          *status = answer ? answer->status : -1;
        },
        asio::detached);
  }

  bool serving() {
    auto status = std::make_shared<int>(0);
    net::HttpRequest r;
    r.method = "GET";
    r.path = r.target = "/primary";
    asio::co_spawn(
        io_,
        [this, r, status]() mutable -> asio::awaitable<void> {
          std::optional<net::HttpResponse> answer = co_await node_->handle(r);
          *status = answer ? answer->status : -1;
        },
        asio::detached);
    test::run_until(io_, [&] { return *status != 0; }, 2s);
    return *status == 200;
  }

  std::string status() const { return node_->status_json(); }
  void advance(core::Duration d) { clock_.advance(d); }
  // Runs what is ready now, without waiting for anything.
  void drain() {
    io_.restart();
    io_.poll();
  }

  template <class Done>
  bool run_until(Done done) {
    return test::run_until(io_, done, 10s);
  }

 private:
  core::ManualClock clock_;
  asio::io_context io_;
  std::unique_ptr<StoreNode> node_;
};

std::string value_of(int i) { return "value-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7) * 100, 'x'); }

class StoreNodeCrash : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("failover-node-crash-" + std::to_string(::getpid()) + "-" + std::to_string(GetParam()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_P(StoreNodeCrash, NoAcknowledgedWriteIsMissingAfterACrashAtARandomMoment) {
  const int seed = GetParam();
  std::mt19937 random(static_cast<std::uint32_t>(seed));
  test::FaultyFileSystem fs(static_cast<std::uint32_t>(seed));
  SharedRecord record;
  const std::string data_dir = dir_.string();
  constexpr int kWrites = 200;
  std::map<int, std::shared_ptr<int>> statuses;
  std::map<int, int> acked_at_crash;  // key index -> status, frozen at the crash

  {
    Life life(fs, record, data_dir);
    ASSERT_TRUE(life.open().ok());
    life.start();
    ASSERT_TRUE(life.run_until([&] { return life.serving(); }));
    // Writes arrive in waves, so several groups (fsyncs) are in flight.
    const int crash_after = std::uniform_int_distribution<int>(1, kWrites - 1)(random);
    int sent = 0;
    auto acked = [&] {
      int n = 0;
      for (const auto& [i, s] : statuses) n += *s == 200;
      return n;
    };
    while (acked() < crash_after && sent < kWrites) {
      const int wave = std::uniform_int_distribution<int>(1, 20)(random);
      for (int k = 0; k < wave && sent < kWrites; ++k, ++sent) {
        statuses[sent] = std::make_shared<int>(0);
        life.request("PUT", "key" + std::to_string(sent), value_of(sent), statuses[sent]);
      }
      life.run_until([&] { return acked() >= std::min(crash_after, sent / 2); });
    }
    fs.crash(/*tear=*/seed % 2 == 1);
    for (const auto& [i, s] : statuses) acked_at_crash[i] = *s;
  }

  int acked = 0;
  for (const auto& [i, s] : acked_at_crash) acked += s == 200;
  ASSERT_GT(acked, 0);

  Life again(fs, record, data_dir);
  ASSERT_TRUE(again.open().ok());
  again.start();
  ASSERT_TRUE(again.run_until([&] { return again.serving(); })) << "the restarted node never served";
  for (const auto& [i, status] : acked_at_crash) {
    auto got = std::make_shared<int>(0);
    auto body = std::make_shared<std::string>();
    again.request("GET", "key" + std::to_string(i), "", got, body);
    ASSERT_TRUE(again.run_until([&] { return *got != 0; }));
    if (status == 200) {
      EXPECT_EQ(*got, 200) << "acknowledged key" << i << " is missing after the crash (seed " << seed << ")";
      EXPECT_EQ(*body, value_of(i)) << "key" << i;
    } else if (*got == 200) {
      EXPECT_EQ(*body, value_of(i)) << "unacknowledged key" << i << " came back with another value";
    } else {
      EXPECT_EQ(*got, 404) << "key" << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, StoreNodeCrash, ::testing::Range(1, 9));

std::uint64_t applied_seq_in(const std::string& status) {
  return boost::json::parse(status).at("applied_seq").to_number<std::uint64_t>();
}

// A node whose RocksDB lost everything it had applied (its memtable, never
// flushed with the WAL off, goes with the process; here the whole kv
// directory) applies the log again in chunks of kApplyChunk, each its own
// io handler, so heartbeats, acks and requests run between them; and ends
// with every key there.
TEST(StoreNodeApply, ANodeFarBehindAppliesInChunksThatLetOtherWorkRun) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("failover-node-apply-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  test::FaultyFileSystem fs(1);
  SharedRecord record;
  constexpr int kWrites = 3 * static_cast<int>(StoreNode::kApplyChunk) + 100;
  {
    Life life(fs, record, dir.string());
    ASSERT_TRUE(life.open().ok());
    life.start();
    ASSERT_TRUE(life.run_until([&] { return life.serving(); }));
    int acked = 0;
    for (int sent = 0; sent < kWrites;) {
      std::vector<std::shared_ptr<int>> wave;
      for (int k = 0; k < 200 && sent < kWrites; ++k, ++sent) {
        wave.push_back(std::make_shared<int>(0));
        life.request("PUT", "key" + std::to_string(sent), value_of(sent), wave.back());
      }
      ASSERT_TRUE(life.run_until([&] {
        for (const auto& s : wave)
          if (*s == 0) return false;
        return true;
      }));
      for (const auto& s : wave) acked += *s == 200;
    }
    ASSERT_EQ(acked, kWrites);
  }
  std::filesystem::remove_all(dir / "kv");

  Life again(fs, record, dir.string());
  ASSERT_TRUE(again.open().ok());
  EXPECT_EQ(applied_seq_in(again.status()), 0u);
  again.start();
  // Sampled between io handlers: never more than a chunk at once, and
  // seen part way.
  std::vector<std::uint64_t> seen{0};
  ASSERT_TRUE(again.run_until([&] {
    const std::uint64_t now = applied_seq_in(again.status());
    if (now != seen.back()) seen.push_back(now);
    return now >= static_cast<std::uint64_t>(kWrites);
  }));
  ASSERT_GE(seen.size(), 4u);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GT(seen[i], seen[i - 1]);
    EXPECT_LE(seen[i] - seen[i - 1], StoreNode::kApplyChunk) << "applied in one go from " << seen[i - 1];
  }
  for (int i : {0, kWrites / 2, kWrites - 1}) {
    auto got = std::make_shared<int>(0);
    auto body = std::make_shared<std::string>();
    again.request("GET", "key" + std::to_string(i), "", got, body);
    ASSERT_TRUE(again.run_until([&] { return *got != 0; }));
    EXPECT_EQ(*got, 200) << "key" << i;
    EXPECT_EQ(*body, value_of(i)) << "key" << i;
  }
  std::filesystem::remove_all(dir);
}

// A write whose fsync hangs is answered 503 once write_timeout has passed
// on the node's clock (not before), saying it may still be applied; it is,
// once the disk comes back.
TEST(StoreNodeWrite, AnswersServiceUnavailableAtWriteTimeoutAndMayStillApply) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("failover-node-timeout-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  test::FaultyFileSystem fs(1);
  SharedRecord record;
  // Declared before the node, so the writer thread is let go (by the
  // guard) before the node joins it, even when an assertion ends the test.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> hang{true};
  std::atomic<bool> hung{false};
  fs.set_sync_hook([&] {
    if (!hang) return;
    hung = true;
    released.wait();
  });
  {
    Life life(fs, record, dir.string());
    struct LetGo {
      std::atomic<bool>& hang;
      std::promise<void>& release;
      ~LetGo() {
        if (hang.exchange(false)) release.set_value();
      }
    } let_go{hang, release};
    hang = false;  // not while starting
    ASSERT_TRUE(life.open().ok());
    life.start();
    ASSERT_TRUE(life.run_until([&] { return life.serving(); }));
    hang = true;

    auto status = std::make_shared<int>(0);
    auto reply = std::make_shared<std::string>();
    life.request("PUT", "slow", "late", status, reply, "key-1");
    ASSERT_TRUE(life.run_until([&] { return hung.load(); }));
    life.advance(StoreConfig{}.write_timeout - std::chrono::milliseconds(1));
    life.drain();
    EXPECT_EQ(*status, 0) << "answered before write_timeout";
    life.advance(StoreConfig{}.heartbeat_interval);  // the tick that looks
    ASSERT_TRUE(life.run_until([&] { return *status != 0; }));
    EXPECT_EQ(*status, 503);
    EXPECT_NE(reply->find("write_timeout"), std::string::npos) << *reply;

    // Its retry (same Idempotency-Key) shares the write still in flight, with
    // a whole write_timeout of its own, not the first try's spent one.
    auto retry = std::make_shared<int>(0);
    life.request("PUT", "slow", "late", retry, nullptr, "key-1");
    life.drain();
    life.advance(StoreConfig{}.write_timeout - std::chrono::milliseconds(1));
    life.drain();
    EXPECT_EQ(*retry, 0) << "the retry was answered before its own write_timeout";
    life.advance(StoreConfig{}.heartbeat_interval);
    ASSERT_TRUE(life.run_until([&] { return *retry != 0; }));
    EXPECT_EQ(*retry, 503);

    hang = false;
    release.set_value();
    auto got = std::make_shared<int>(0);
    auto body = std::make_shared<std::string>();
    ASSERT_TRUE(life.run_until([&] {
      if (*got == 200) return true;
      *got = 0;
      life.request("GET", "slow", "", got, body);
      life.run_until([&] { return *got != 0; });
      return *got == 200;
    }));
    EXPECT_EQ(*body, "late");
  }
  std::filesystem::remove_all(dir);
}

// Short of disk (below min_free_disk), a primary answers writes 507, with
// nothing proposed, and /status says why; with room again, it takes them.
TEST(StoreNodeWrite, AnswersInsufficientStorageBelowMinFreeDisk) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("failover-node-disk-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  test::FaultyFileSystem fs(1);
  SharedRecord record;
  {
    Life life(fs, record, dir.string());
    ASSERT_TRUE(life.open().ok());
    life.start();
    ASSERT_TRUE(life.run_until([&] { return life.serving(); }));
    auto put = [&](const std::string& key, std::shared_ptr<std::string> reply = nullptr) {
      auto status = std::make_shared<int>(0);
      life.request("PUT", key, "v", status, reply);
      life.run_until([&] { return *status != 0; });
      return *status;
    };
    ASSERT_EQ(put("before"), 200);
    fs.set_capacity(1 << 20);  // the log holds a few KiB: about 1 MiB free, under the default 64
    life.advance(std::chrono::milliseconds(200));
    life.drain();
    auto reply = std::make_shared<std::string>();
    EXPECT_EQ(put("during", reply), 507);
    EXPECT_NE(reply->find("disk full"), std::string::npos) << *reply;
    const auto status = boost::json::parse(life.status());
    EXPECT_TRUE(status.at("disk").at("full").as_bool()) << life.status();

    fs.set_capacity(UINT64_MAX);
    life.advance(std::chrono::milliseconds(200));
    life.drain();
    EXPECT_EQ(put("after"), 200);
    auto got = std::make_shared<int>(0);
    life.request("GET", "during", "", got);
    ASSERT_TRUE(life.run_until([&] { return *got != 0; }));
    EXPECT_EQ(*got, 404) << "a write answered 507 was applied";
  }
  std::filesystem::remove_all(dir);
}

// A node stopped in the middle of installing a peer's checkpoint (after
// install.json was written): the next start finishes the install before it
// serves, whether the state had been swapped yet (param true) or not.
class StoreNodeInstall : public StoreNodeCrash {};

TEST_P(StoreNodeInstall, AnInstallCutShortIsFinishedOnTheNextStart) {
  const bool state_swapped = GetParam() == 1;
  test::FaultyFileSystem fs;
  SharedRecord record;
  const std::filesystem::path data = dir_;
  {
    Life life(fs, record, data.string());
    ASSERT_TRUE(life.open().ok());
    life.start();
    ASSERT_TRUE(life.run_until([&] { return life.serving(); }));
    for (int i = 0; i < 5; ++i) {
      auto status = std::make_shared<int>(0);
      life.request("PUT", "old" + std::to_string(i), "before", status);
      ASSERT_TRUE(life.run_until([&] { return *status == 200; }));
    }
  }
  // The checkpoint the node was installing: a state through seq 50.
  {
    auto source = KvState::open((data / "source").string());
    ASSERT_TRUE(source.ok());
    std::vector<std::string> keys, values;
    for (int i = 1; i <= 50; ++i) {
      keys.push_back("key" + std::to_string(i));
      values.push_back("from-checkpoint-" + std::to_string(i));
    }
    std::vector<KvEntry> entries;
    for (int i = 0; i < 50; ++i) entries.push_back({1, std::uint64_t(i + 1), KvOp::kPut, keys[i], values[i], ""});
    ASSERT_TRUE((*source)->apply(entries).ok());
    auto seq = (*source)->checkpoint((data / "incoming").string());
    ASSERT_TRUE(seq.ok());
    ASSERT_EQ(*seq, 50u);
  }
  ASSERT_TRUE(write_file_atomically(fs, data / "install.json",
                                    R"({"seq":50,"base_epoch":1,"epochs":[{"epoch":1,"first_seq":1}]})")
                  .ok());
  if (state_swapped) {
    ASSERT_TRUE(KvState::install_checkpoint((data / "incoming").string(), (data / "kv").string()).ok());
  }

  Life again(fs, record, data.string());
  const core::Result<void> opened = again.open();
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  EXPECT_FALSE(fs.exists(data / "install.json"));
  EXPECT_FALSE(std::filesystem::exists(data / "incoming"));
  EXPECT_NE(again.status().find(R"("applied_seq":50)"), std::string::npos) << again.status();
  EXPECT_NE(again.status().find(R"("first_seq":51)"), std::string::npos) << again.status();
  again.start();
  ASSERT_TRUE(again.run_until([&] { return again.serving(); })) << again.status();
  auto got = std::make_shared<int>(0);
  auto body = std::make_shared<std::string>();
  again.request("GET", "key7", "", got, body);
  ASSERT_TRUE(again.run_until([&] { return *got != 0; }));
  EXPECT_EQ(*got, 200);
  EXPECT_EQ(*body, "from-checkpoint-7");
  auto put = std::make_shared<int>(0);
  again.request("PUT", "after", "x", put);
  ASSERT_TRUE(again.run_until([&] { return *put != 0; }));
  EXPECT_EQ(*put, 200);
}

INSTANTIATE_TEST_SUITE_P(StateSwapped, StoreNodeInstall, ::testing::Values(0, 1));

}  // namespace
}  // namespace failover::store
