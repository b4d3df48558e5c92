#include "image/content_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace berth::image {
namespace {

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-content-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    store_ = std::move(*ContentStore::Open(dir_));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  size_t IngestFiles() const {
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/ingest")) {
      (void)entry;
      ++count;
    }
    return count;
  }

  std::string dir_;
  std::unique_ptr<ContentStore> store_;
};

TEST_F(ContentStoreTest, StreamedBlobIsVerifiedAndStored) {
  std::string data = "hello, layers";
  Digest digest = ComputeDigest(data);
  auto writer = store_->Writer(digest, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("hello, ").ok());
  ASSERT_TRUE((*writer)->Write("layers").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_TRUE(store_->Has(digest));
  EXPECT_EQ(*store_->Read(digest, 100), data);
  EXPECT_EQ(store_->List()->size(), 1u);
  EXPECT_EQ(IngestFiles(), 0u);
}

TEST_F(ContentStoreTest, DigestMismatchStoresNothing) {
  Digest claimed = ComputeDigest("what the manifest says");
  auto writer = store_->Writer(claimed, 8);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("tampered").ok());
  auto committed = (*writer)->Commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(committed.error().message().find("digest mismatch"), std::string::npos);
  EXPECT_FALSE(store_->Has(claimed));
  EXPECT_EQ(IngestFiles(), 0u);
}

TEST_F(ContentStoreTest, SizeIsEnforcedBothWays) {
  std::string data = "0123456789";
  Digest digest = ComputeDigest(data);
  auto longer = store_->Writer(digest, 5);
  EXPECT_FALSE((*longer)->Write(data).ok());
  auto shorter = store_->Writer(digest, 20);
  ASSERT_TRUE((*shorter)->Write(data).ok());
  EXPECT_FALSE((*shorter)->Commit().ok());
  EXPECT_FALSE(store_->Has(digest));
}

TEST_F(ContentStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto writer = store_->Writer(ComputeDigest("x"), 1);
    ASSERT_TRUE((*writer)->Write("x").ok());
    EXPECT_EQ(IngestFiles(), 1u);
  }
  EXPECT_EQ(IngestFiles(), 0u);
  EXPECT_TRUE(store_->List()->empty());
}

TEST_F(ContentStoreTest, DeleteAndUsage) {
  Digest digest = ComputeDigest(std::string(10000, 'z'));
  ASSERT_TRUE(store_->WriteBlob(digest, std::string(10000, 'z')).ok());
  EXPECT_GE(store_->Usage().bytes, 10000u);
  ASSERT_TRUE(store_->Delete(digest).ok());
  ASSERT_TRUE(store_->Delete(digest).ok());
  EXPECT_FALSE(store_->Has(digest));
}

TEST_F(ContentStoreTest, UsageCountsAHardLinkedFileOnceAndAllocatedBlocks) {
  std::string dir = dir_ + "/tree";
  std::filesystem::create_directories(dir + "/sub");
  std::string data(64 * 1024, 'x');
  std::ofstream(dir + "/file") << data;
  for (const char* link : {"/link1", "/link2", "/sub/link3"}) {
    std::filesystem::create_hard_link(dir + "/file", dir + link);
  }
  // A sparse file: 16 MiB long, nothing allocated.
  { std::ofstream create(dir + "/sparse"); }
  std::filesystem::resize_file(dir + "/sparse", 16 << 20);
  std::filesystem::create_symlink("file", dir + "/symlink");
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/file").c_str(), &st), 0);
  DiskUsage usage = MeasureDiskUsage(dir);
  // tree, sub, file (once for its four names), sparse, symlink.
  EXPECT_EQ(usage.inodes, 5u);
  EXPECT_GE(usage.bytes, static_cast<uint64_t>(st.st_blocks) * 512);
  EXPECT_LT(usage.bytes, 2 * static_cast<uint64_t>(st.st_blocks) * 512 + 64 * 1024);
}

}  // namespace
}  // namespace berth::image
