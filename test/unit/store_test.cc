#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gtest/gtest.h"
#include "store/metadata_store.h"

namespace berth {
namespace {

std::string ReadBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The file offset of the b-tree page header of the objects table's root page.
long ObjectsRootPage(const std::string& path) {
  sqlite3* db = nullptr;
  long offset = -1;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = 'objects'", -1,
                         &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    offset = (sqlite3_column_int64(statement, 0) - 1) * 4096;
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return offset;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-store-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    path_ = dir_ + "/metadata.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A store holding a few objects, closed again (so everything is in the main file).
  void WriteSomeObjects() {
    auto store = MetadataStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.error().message();
    ASSERT_TRUE((*store)
                    ->Update([](StoreTransaction& tx) -> Result<void> {
                      BERTH_TRY(tx.Put("sandbox", "s1", "{}"));
                      return tx.Put("ip_allocation", "10.88.0.2", "s1");
                    })
                    .ok());
  }
  // Opening must fail as DataLoss naming the file and `detail`, leaving the file as it was.
  void ExpectRefused(const std::string& detail) {
    std::string before = ReadBytes(path_);
    auto store = MetadataStore::Open(path_);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code(), ErrorCode::kDataLoss);
    const std::string& message = store.error().message();
    EXPECT_NE(message.find("metadata store " + path_ + " is damaged"), std::string::npos)
        << message;
    EXPECT_NE(message.find(detail), std::string::npos) << message;
    EXPECT_NE(message.find("Keep a copy of the file"), std::string::npos) << message;
    EXPECT_TRUE(ReadBytes(path_) == before) << "the damaged file was changed";
  }

  std::string dir_;
  std::string path_;
};

TEST_F(StoreTest, APageThatReadsAsEmptyIsRefusedAtOpen) {
  WriteSomeObjects();
  long page = ObjectsRootPage(path_);
  ASSERT_GT(page, 0);
  std::string bytes = ReadBytes(path_);
  ASSERT_EQ(bytes[page + 3], 0);
  bytes[page + 4] = 0;  // the page's cell count: every query would find no rows, and no error
  WriteBytes(path_, bytes);
  ExpectRefused("quick_check");
}

TEST_F(StoreTest, ADamagedPageTypeIsRefusedAtOpen) {
  WriteSomeObjects();
  long page = ObjectsRootPage(path_);
  ASSERT_GT(page, 0);
  std::string bytes = ReadBytes(path_);
  bytes[page] = static_cast<char>(bytes[page] ^ 0xff);
  WriteBytes(path_, bytes);
  ExpectRefused("Page 2");
}

TEST_F(StoreTest, AFileThatIsNoDatabaseIsRefused) {
  WriteBytes(path_, std::string(8192, 'x'));
  ExpectRefused("not a database");
}

TEST_F(StoreTest, DamageFoundAfterOpenIsDataLossNotNoRows) {
  WriteSomeObjects();
  auto store = MetadataStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.error().message();
  long page = ObjectsRootPage(path_);
  std::string bytes = ReadBytes(path_);
  bytes[page] = static_cast<char>(bytes[page] ^ 0xff);
  WriteBytes(path_, bytes);
  // A write by another connection makes the store's own connection drop its page cache.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "PRAGMA user_version = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  auto sandboxes = (*store)->List("sandbox");
  ASSERT_FALSE(sandboxes.ok());
  EXPECT_EQ(sandboxes.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(sandboxes.error().message().find(path_ + " is damaged"), std::string::npos)
      << sandboxes.error().message();
  auto one = (*store)->Get("sandbox", "s1");
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.error().code(), ErrorCode::kDataLoss);
}

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

  ASSERT_TRUE(
      (*store)->Update([](StoreTransaction& tx) { return tx.Delete("image", "sha256:a"); }).ok());
  ASSERT_TRUE(
      (*store)->Update([](StoreTransaction& tx) { return tx.Delete("image", "gone"); }).ok());
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
  EXPECT_TRUE(
      (*store)->Update([](StoreTransaction& tx) { return tx.Put("container", "c2", "y"); }).ok());
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
