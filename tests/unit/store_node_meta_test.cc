#include "store/node_meta.h"

#include <gtest/gtest.h>

#include "support/faulty_file_system.h"

namespace failover::store {
namespace {

using test::FaultyFileSystem;

const Path kData = "data/a";

TEST(NodeMeta, NewDataDirGetsARandomStorageIdThatSurvivesACrash) {
  FaultyFileSystem fs;
  auto meta = load_or_create(fs, kData);
  ASSERT_TRUE(meta.ok()) << meta.error().to_string();
  EXPECT_EQ(meta->storage_id.size(), 32u);
  EXPECT_EQ(meta->storage_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(meta->highest_epoch, 0u);
  fs.crash();  // durable once load_or_create returned
  auto again = load_or_create(fs, kData);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *meta);
}

TEST(NodeMeta, TwoDataDirsGetTwoIds) {
  FaultyFileSystem fs;
  EXPECT_NE(load_or_create(fs, "data/a")->storage_id, load_or_create(fs, "data/b")->storage_id);
}

TEST(NodeMeta, SaveIsDurableAndAtomic) {
  FaultyFileSystem fs;
  NodeMeta meta = *load_or_create(fs, kData);
  meta.cluster_id = "c1";
  meta.highest_epoch = 7;
  ASSERT_TRUE(save(fs, kData, meta).ok());
  fs.crash();
  EXPECT_EQ(*load_or_create(fs, kData), meta);

  // Dying at any point of a save leaves the old meta or the new one.
  NodeMeta next = meta;
  next.highest_epoch = 8;
  for (int n = 0; n < 20; ++n) {
    fs.die_after(n);
    const bool done = save(fs, kData, next).ok();
    fs.crash();
    auto now = load_or_create(fs, kData);
    ASSERT_TRUE(now.ok()) << n;
    EXPECT_TRUE(*now == meta || *now == next) << n;
    if (done) {
      EXPECT_EQ(*now, next);
      return;
    }
  }
  FAIL() << "save never completed";
}

TEST(NodeMeta, ACrashDuringTheFirstSaveStartsAfresh) {
  for (int n = 0; n < 20; ++n) {
    FaultyFileSystem fs;
    fs.die_after(n);
    const bool done = load_or_create(fs, kData).ok();
    fs.crash();
    auto meta = load_or_create(fs, kData);
    ASSERT_TRUE(meta.ok()) << n << ": " << meta.error().to_string();
    if (done) return;
  }
  FAIL() << "load_or_create never completed";
}

TEST(NodeMeta, DataWithoutMetaIsRefused) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs(kData / "log").ok());
  auto meta = load_or_create(fs, kData);
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.error().code, core::ErrorCode::kInvalid);
  EXPECT_NE(meta.error().message.find("no meta.json"), std::string::npos) << meta.error().message;
}

TEST(NodeMeta, UnreadableMetaIsRefused) {
  FaultyFileSystem fs;
  ASSERT_TRUE(fs.create_dirs(kData).ok());
  for (const char* text : {"", "{", "[]", R"({"storage_id":""})", R"({"storage_id":"x","highest_epoch":-1})",
                           R"({"storage_id":"x","highest_epoch":"7"})", R"({"storage_id":"x","cluster_id":3})"}) {
    ASSERT_TRUE(write_file_atomically(fs, kData / "meta.json", text).ok());
    EXPECT_TRUE(load_or_create(fs, kData).is(core::ErrorCode::kInvalid)) << text;
  }
}

}  // namespace
}  // namespace failover::store
