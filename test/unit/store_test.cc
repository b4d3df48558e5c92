#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "store/metadata_store.h"

namespace berth {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-store-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    path_ = dir_ + "/metadata.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string path_;
};

TEST_F(StoreTest, CreatesSchemaAtLatestVersionInWalMode) {
  auto store = MetadataStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto version = (*store)->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, MetadataStore::LatestSchemaVersion());
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));
}

TEST_F(StoreTest, PutGetListDeleteAcrossReopen) {
  {
    auto store = MetadataStore::Open(path_);
    ASSERT_TRUE(store.ok());
    auto written = (*store)->Update([](StoreTransaction& tx) -> Result<void> {
      BERTH_TRY(tx.Put("image", "sha256:b", "{\"b\":1}"));
      BERTH_TRY(tx.Put("image", "sha256:a", "{\"a\":1}"));
      return tx.Put("sandbox", "s1", std::string("bin\0ary", 7));
    });
    ASSERT_TRUE(written.ok()) << written.error().message();
  }
  auto store = MetadataStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto images = (*store)->List("image");
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].id, "sha256:a");
  EXPECT_EQ((*images)[1].data, "{\"b\":1}");
  auto sandbox = (*store)->Get("sandbox", "s1");
  ASSERT_TRUE(sandbox.ok() && sandbox->has_value());
  EXPECT_EQ(**sandbox, std::string("bin\0ary", 7));

  ASSERT_TRUE((*store)->Update([](StoreTransaction& tx) { return tx.Delete("image", "sha256:a"); }).ok());
  ASSERT_TRUE((*store)->Update([](StoreTransaction& tx) { return tx.Delete("image", "gone"); }).ok());
  EXPECT_EQ((*store)->List("image")->size(), 1u);
  EXPECT_FALSE((*store)->Get("image", "sha256:a")->has_value());
}

TEST_F(StoreTest, FailedUpdateRollsBackEverything) {
  auto store = MetadataStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto failed = (*store)->Update([](StoreTransaction& tx) -> Result<void> {
    BERTH_TRY(tx.Put("container", "c1", "x"));
    return Internal("disk on fire");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "disk on fire");
  EXPECT_FALSE((*store)->Get("container", "c1")->has_value());
  // The store is usable after a rollback.
  EXPECT_TRUE((*store)->Update([](StoreTransaction& tx) { return tx.Put("container", "c2", "y"); }).ok());
  EXPECT_TRUE((*store)->Get("container", "c2")->has_value());
}

TEST_F(StoreTest, RefusesNewerSchema) {
  { ASSERT_TRUE(MetadataStore::Open(path_).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = MetadataStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(store.error().message().find("999"), std::string::npos);
}

TEST_F(StoreTest, MigratesAnOlderDatabase) {
  // A database at version 0 (empty) is brought up to the latest version.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE unrelated (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = MetadataStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(*(*store)->SchemaVersion(), MetadataStore::LatestSchemaVersion());
}

}  // namespace
}  // namespace berth
