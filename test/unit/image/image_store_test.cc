#include "image/image_store.h"

#include <unistd.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace berth::image {
namespace {

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-images-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    metadata_ = std::move(*MetadataStore::Open(dir_ + "/metadata.db"));
  }
  void TearDown() override {
    metadata_.reset();
    std::filesystem::remove_all(dir_);
  }
  static ImageRecord Record(char hex, std::vector<std::string> tags) {
    ImageRecord record;
    record.id = "sha256:" + std::string(64, hex);
    record.config_digest = *Digest::Parse(record.id);
    record.manifest_digest = *Digest::Parse("sha256:" + std::string(64, 'f'));
    record.repo_tags = std::move(tags);
    record.repo_digests = {"docker.io/library/busybox@sha256:" + std::string(64, 'f')};
    record.size = 1234;
    LayerRecord layer;
    layer.blob = *Digest::Parse("sha256:" + std::string(64, 'e'));
    layer.diff_id = layer.blob;
    layer.chain_id = layer.blob;
    layer.size = 1000;
    layer.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    record.layers.push_back(layer);
    return record;
  }

  std::string dir_;
  std::unique_ptr<MetadataStore> metadata_;
};

TEST_F(ImageStoreTest, RecordsRoundTripThroughJson) {
  ImageRecord record = Record('a', {"docker.io/library/busybox:latest"});
  record.pinned = true;
  auto parsed = ImageRecordFromJson(ImageRecordToJson(record));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(ImageRecordToJson(*parsed), ImageRecordToJson(record));
  EXPECT_FALSE(ImageRecordFromJson("{").ok());
}

TEST_F(ImageStoreTest, ResolvesEveryWayAUserNamesAnImage) {
  ImageStore store(*metadata_);
  ASSERT_TRUE(store.Put(Record('a', {"docker.io/library/busybox:latest"})).ok());
  ASSERT_TRUE(store.Put(Record('b', {"registry.local:5000/team/app:1.0"})).ok());
  std::string a = "sha256:" + std::string(64, 'a');
  for (const char* name :
       {"busybox", "busybox:latest", "docker.io/library/busybox:latest", "library/busybox"}) {
    auto found = store.Resolve(name);
    ASSERT_TRUE(found.ok()) << name;
    EXPECT_EQ(found->id, a) << name;
  }
  EXPECT_EQ(store.Resolve(a)->id, a);
  EXPECT_EQ(store.Resolve(std::string(64, 'a'))->id, a);
  EXPECT_EQ(store.Resolve("aaaa")->id, a);
  EXPECT_EQ(store.Resolve("registry.local:5000/team/app:1.0")->repo_tags[0],
            "registry.local:5000/team/app:1.0");
  EXPECT_EQ(store.Resolve("busybox@sha256:" + std::string(64, 'f')).ok(), true);
  EXPECT_EQ(store.Resolve("busybox:1.36").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store.Resolve("").error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ImageStoreTest, AmbiguousPrefixIsAnError) {
  ImageStore store(*metadata_);
  ImageRecord first = Record('a', {});
  ImageRecord second = Record('a', {});
  second.id = "sha256:aaa" + std::string(61, 'b');
  ASSERT_TRUE(store.Put(first).ok());
  ASSERT_TRUE(store.Put(second).ok());
  auto ambiguous = store.Resolve("aa");
  // "aa" is under 3 hex digits: not taken as an ID prefix, so it is looked up as a name.
  EXPECT_EQ(ambiguous.error().code(), ErrorCode::kNotFound);
  auto prefix = store.Resolve("aaa");
  ASSERT_FALSE(prefix.ok());
  EXPECT_EQ(prefix.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ImageStoreTest, TagsMoveAndRecordsSurviveReload) {
  {
    ImageStore store(*metadata_);
    ASSERT_TRUE(store.Put(Record('a', {"docker.io/library/busybox:latest"})).ok());
    ASSERT_TRUE(store.Put(Record('b', {"docker.io/library/busybox:latest"})).ok());
    EXPECT_TRUE(store.Get("sha256:" + std::string(64, 'a'))->repo_tags.empty());
    EXPECT_EQ(store.Resolve("busybox")->id, "sha256:" + std::string(64, 'b'));
  }
  ImageStore reloaded(*metadata_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.List().size(), 2u);
  EXPECT_EQ(reloaded.Resolve("busybox")->id, "sha256:" + std::string(64, 'b'));
  ASSERT_TRUE(reloaded.Delete("sha256:" + std::string(64, 'b')).ok());
  ImageStore again(*metadata_);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(again.List().size(), 1u);
}

}  // namespace
}  // namespace berth::image
