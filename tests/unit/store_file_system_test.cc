// The disk seam: the posix file system on a temporary directory, and the
// faulty one's model of what a crash keeps (tests/support/faulty_file_system.h).
#include "store/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "support/faulty_file_system.h"

namespace failover::store {
namespace {

using test::FaultyFileSystem;

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("store_fs_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(fs_.create_dirs(dir_ / "a" / "b").ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  FileSystem& fs_ = posix_file_system();
  Path dir_;
};

TEST_F(PosixFileSystemTest, AppendsReadsAndCuts) {
  const Path f = dir_ / "a" / "f";
  {
    auto file = fs_.open_for_append(f);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->append("hello ").ok());
    ASSERT_TRUE((*file)->append("world").ok());
    ASSERT_TRUE((*file)->sync().ok());
    ASSERT_TRUE((*file)->close().ok());
  }
  EXPECT_EQ(*fs_.read_file(f), "hello world");
  EXPECT_EQ(*fs_.read_range(f, 6, 3), "wor");
  EXPECT_EQ(*fs_.read_range(f, 6, 100), "world");
  EXPECT_EQ(*fs_.read_range(f, 100, 3), "");
  EXPECT_EQ(*fs_.file_size(f), 11u);
  ASSERT_TRUE(fs_.truncate(f, 5).ok());
  EXPECT_EQ(*fs_.read_file(f), "hello");
  {
    auto file = fs_.open_for_append(f);  // appends after what is there
    ASSERT_TRUE((*file)->append("!").ok());
  }
  EXPECT_EQ(*fs_.read_file(f), "hello!");
  EXPECT_EQ(*fs_.list_dir(dir_ / "a"), (std::vector<std::string>{"b", "f"}));
  ASSERT_TRUE(fs_.rename(f, dir_ / "g").ok());
  EXPECT_FALSE(fs_.exists(f));
  EXPECT_TRUE(fs_.exists(dir_ / "g"));
  ASSERT_TRUE(fs_.sync_dir(dir_).ok());
  ASSERT_TRUE(fs_.remove(dir_ / "g").ok());
  EXPECT_FALSE(fs_.exists(dir_ / "g"));
}

TEST_F(PosixFileSystemTest, AppendsGoOverReservedZeros) {
  const Path f = dir_ / "a" / "f";
  auto file = fs_.open_for_append(f);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->append("head").ok());
  ASSERT_TRUE((*file)->reserve(600 << 10).ok());  // more than one chunk of zeros
  ASSERT_TRUE((*file)->reserve(10).ok());         // never shrinks
  EXPECT_EQ(*fs_.file_size(f), 600u << 10);
  ASSERT_TRUE((*file)->append("tail").ok());
  ASSERT_TRUE((*file)->sync().ok());
  const std::string got = *fs_.read_file(f);
  EXPECT_EQ(got.size(), 600u << 10);
  EXPECT_EQ(got.substr(0, 9), std::string("headtail") + '\0');
  EXPECT_EQ(got.find_first_not_of('\0', 8), std::string::npos);
  ASSERT_TRUE(fs_.truncate(f, 8).ok());
  auto again = fs_.open_for_append(f);  // appends at the end the file has now
  ASSERT_TRUE((*again)->append("!").ok());
  EXPECT_EQ(*fs_.read_file(f), "headtail!");
}

TEST_F(PosixFileSystemTest, MissingIsNotFound) {
  EXPECT_TRUE(fs_.read_file(dir_ / "nope").is(core::ErrorCode::kNotFound));
  EXPECT_TRUE(fs_.remove(dir_ / "nope").is(core::ErrorCode::kNotFound));
  EXPECT_TRUE(fs_.file_size(dir_ / "nope").is(core::ErrorCode::kNotFound));
  EXPECT_TRUE(fs_.list_dir(dir_ / "nope").is(core::ErrorCode::kNotFound));
  EXPECT_TRUE(fs_.open_for_append(dir_ / "nope" / "f").is(core::ErrorCode::kNotFound));
}

TEST_F(PosixFileSystemTest, WriteFileAtomicallyReplaces) {
  const Path f = dir_ / "meta.json";
  ASSERT_TRUE(write_file_atomically(fs_, f, "one").ok());
  ASSERT_TRUE(write_file_atomically(fs_, f, "two").ok());
  EXPECT_EQ(*fs_.read_file(f), "two");
  EXPECT_EQ(*fs_.list_dir(dir_), (std::vector<std::string>{"a", "meta.json"}));  // no .tmp left
}

TEST(PosixFileSystem, NoSpaceIsDiskFull) {
  // /dev/full answers every write with ENOSPC.
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto file = posix_file_system().open_for_append("/dev/full");
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  auto r = (*file)->append("x");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_disk_full(r.error())) << r.error().to_string();
  EXPECT_FALSE(is_disk_full(core::Error::internal("fsync: Input/output error")));
}

// ------------------------------------------------------------ the faulty one

std::unique_ptr<WritableFile> open(FaultyFileSystem& fs, const Path& p) {
  auto f = fs.open_for_append(p);
  EXPECT_TRUE(f.ok());
  return std::move(*f);
}

TEST(FaultyFileSystem, UnsyncedBytesAreLostInACrash) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  auto f = open(fs, "d/f");
  ASSERT_TRUE(f->append("kept").ok());
  ASSERT_TRUE(f->sync().ok());
  ASSERT_TRUE(fs.sync_dir("d").ok());
  ASSERT_TRUE(f->append(" lost").ok());
  EXPECT_EQ(fs.contents("d/f"), "kept lost");
  fs.crash();
  EXPECT_EQ(fs.contents("d/f"), "kept");
  EXPECT_FALSE(f->append("x").ok());  // a handle from before the crash
}

TEST(FaultyFileSystem, NamesAreVolatileUntilTheDirectoryIsSynced) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  auto f = open(fs, "d/new");
  ASSERT_TRUE(f->append("data").ok());
  ASSERT_TRUE(f->sync().ok());
  fs.crash();
  EXPECT_FALSE(fs.exists("d/new"));  // the file was synced, its name was not

  auto g = open(fs, "d/old");
  ASSERT_TRUE(g->append("x").ok());
  ASSERT_TRUE(g->sync().ok());
  ASSERT_TRUE(fs.sync_dir("d").ok());
  ASSERT_TRUE(fs.rename("d/old", "d/renamed").ok());
  fs.crash();
  EXPECT_TRUE(fs.exists("d/old"));
  EXPECT_FALSE(fs.exists("d/renamed"));
  ASSERT_TRUE(fs.remove("d/old").ok());
  fs.crash();
  EXPECT_EQ(fs.contents("d/old"), "x");  // the removal was not synced either
  ASSERT_TRUE(fs.remove("d/old").ok());
  ASSERT_TRUE(fs.sync_dir("d").ok());
  fs.crash();
  EXPECT_FALSE(fs.exists("d/old"));
}

TEST(FaultyFileSystem, TearKeepsAPrefixOfTheUnsyncedTail) {
  bool some_kept = false;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    FaultyFileSystem fs(seed);
    ASSERT_TRUE(fs.create_dirs("d").ok());
    auto f = open(fs, "d/f");
    ASSERT_TRUE(f->append("synced|").ok());
    ASSERT_TRUE(f->sync().ok());
    ASSERT_TRUE(fs.sync_dir("d").ok());
    ASSERT_TRUE(f->append("0123456789").ok());
    fs.crash(/*tear=*/true);
    const std::string now = fs.contents("d/f");
    EXPECT_EQ(std::string("synced|0123456789").substr(0, now.size()), now);
    EXPECT_GE(now.size(), 7u);
    some_kept = some_kept || now.size() > 7;
  }
  EXPECT_TRUE(some_kept);
}

TEST(FaultyFileSystem, AppendsOverReservedZerosAreVolatileUntilSynced) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  auto f = open(fs, "d/f");
  ASSERT_TRUE(fs.sync_dir("d").ok());
  ASSERT_TRUE(f->append("ab").ok());
  ASSERT_TRUE(f->reserve(6).ok());
  EXPECT_EQ(fs.contents("d/f"), std::string("ab\0\0\0\0", 6));
  ASSERT_TRUE(f->sync().ok());
  ASSERT_TRUE(f->append("cd").ok());
  EXPECT_EQ(fs.contents("d/f"), std::string("abcd\0\0", 6));
  fs.crash();
  EXPECT_EQ(fs.contents("d/f"), std::string("ab\0\0\0\0", 6));  // the zeros, not "cd"
}

TEST(FaultyFileSystem, TearOverReservedZerosKeepsAPrefixOfTheWrite) {
  std::set<std::string> seen;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    FaultyFileSystem fs(seed);
    ASSERT_TRUE(fs.create_dirs("d").ok());
    auto f = open(fs, "d/f");
    ASSERT_TRUE(fs.sync_dir("d").ok());
    ASSERT_TRUE(f->append("s|").ok());
    ASSERT_TRUE(f->reserve(8).ok());
    ASSERT_TRUE(f->sync().ok());
    ASSERT_TRUE(f->append("0123").ok());
    fs.crash(/*tear=*/true);
    const std::string now = fs.contents("d/f");
    ASSERT_EQ(now.size(), 8u);
    const size_t written = now.find('\0') == std::string::npos ? 8 : now.find('\0');
    EXPECT_EQ(now, std::string("s|0123").substr(0, written) + std::string(8 - written, '\0'));
    seen.insert(now);
  }
  EXPECT_GT(seen.size(), 2u);  // torn at several points
}

TEST(FaultyFileSystem, ReserveFillsUpLikeENOSPC) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  fs.set_capacity(6);
  auto f = open(fs, "d/f");
  ASSERT_TRUE(f->append("12").ok());
  auto r = f->reserve(10);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_disk_full(r.error()));
  EXPECT_EQ(fs.contents("d/f"), std::string("12\0\0\0\0", 6));
  EXPECT_TRUE(f->append("3456").ok());  // over the zeros: needs no room
  EXPECT_FALSE(f->append("7").ok());
}

TEST(FaultyFileSystem, FailedSyncKeepsDataVolatile) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  auto f = open(fs, "d/f");
  ASSERT_TRUE(fs.sync_dir("d").ok());
  ASSERT_TRUE(f->append("data").ok());
  fs.fail_next_sync(1);
  EXPECT_FALSE(f->sync().ok());
  fs.crash();
  EXPECT_EQ(fs.contents("d/f"), "");
}

TEST(FaultyFileSystem, CapacityFillsUpLikeENOSPC) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  fs.set_capacity(6);
  auto f = open(fs, "d/f");
  ASSERT_TRUE(f->append("1234").ok());
  auto r = f->append("5678");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_disk_full(r.error()));
  EXPECT_EQ(fs.contents("d/f"), "123456");  // what fitted was written
}

TEST(FaultyFileSystem, DieAfterStopsEveryChangeUntilTheCrash) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  fs.die_after(1);
  auto f = open(fs, "d/f");  // the one call left
  EXPECT_FALSE(f->append("x").ok());
  EXPECT_FALSE(fs.sync_dir("d").ok());
  fs.crash();
  EXPECT_TRUE(fs.open_for_append("d/g").ok());
}

TEST(FaultyFileSystem, FlipByteCorruptsSyncedData) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  auto f = open(fs, "d/f");
  ASSERT_TRUE(f->append("abc").ok());
  ASSERT_TRUE(f->sync().ok());
  ASSERT_TRUE(fs.sync_dir("d").ok());
  fs.flip_byte("d/f", 1);
  fs.crash();
  EXPECT_EQ(fs.contents("d/f"), std::string("a") + static_cast<char>('b' ^ 0xFF) + "c");
}

}  // namespace
}  // namespace failover::store
