// The image manager in-process on a temporary root: import the fixture images (OCI layouts and an
// OCI archive), mount their snapshots as a container rootfs would be and check what shows,
// garbage collection, restart. Mounting needs root.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "image/image_manager.h"
#include "test/integration/registry_fixture.h"

namespace berth::testing {
namespace {

using image::ImageManager;

class ImageImportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { images_ = &SharedFixtureImages(); }
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    Reopen();
  }
  void Reopen() {
    manager_.reset();
    metadata_.reset();
    metadata_ = std::move(*MetadataStore::Open(root_.path() + "/metadata.db"));
    image::ImageManagerOptions options;
    options.root = root_.path();
    auto no_registry = [](const image::Reference&, const std::optional<RegistryAuth>&,
                          const CancelToken&) -> Result<image::RegistryOpening> {
      return Unavailable("no registry in this test");
    };
    auto opened = ImageManager::Open(options, *metadata_, no_registry);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    manager_ = std::move(*opened);
  }
  const nlohmann::json& Fixture(const std::string& name) { return (*images_)["images"][name]; }
  image::ImageRecord Import(const std::string& name) {
    auto imported = manager_->Import(Fixture(name)["layout"], "", CancelToken());
    EXPECT_TRUE(imported.ok()) << imported.error().message();
    if (!imported.ok() || imported->size() != 1) return {};
    return imported->front();
  }
  // Mounts a rootfs for `image` at a fresh directory; unmounted and removed by the test's end.
  std::string MountRootfs(const image::ImageRecord& image, const std::string& key) {
    std::vector<image::Digest> chain;
    for (const auto& layer : image.layers) chain.push_back(layer.chain_id);
    EXPECT_TRUE(manager_->snapshots().Prepare(key, chain).ok());
    std::string target = mounts_.path() + "/" + key;
    std::filesystem::create_directories(target);
    auto mounted = manager_->snapshots().Mount(key, target);
    EXPECT_TRUE(mounted.ok()) << mounted.error().message();
    mounted_.push_back(target);
    return target;
  }
  void TearDown() override {
    for (const auto& target : mounted_) EXPECT_TRUE(image::UnmountPath(target).ok());
  }

  static const nlohmann::json* images_;
  TempDir root_{"berth-image-root"};
  TempDir mounts_{"berth-image-mounts"};
  std::vector<std::string> mounted_;
  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<ImageManager> manager_;
};

const nlohmann::json* ImageImportTest::images_ = nullptr;

TEST_F(ImageImportTest, ImportedLayoutKeepsItsIdNameAndConfig) {
  auto image = Import("entrypoint");
  EXPECT_EQ(image.id, Fixture("entrypoint")["image_id"]);
  ASSERT_EQ(image.repo_tags.size(), 1u);
  EXPECT_EQ(image.repo_tags[0], "berth.test/fixtures/entrypoint:latest");
  EXPECT_EQ(image.repo_digests[0], "berth.test/fixtures/entrypoint@" +
                                       Fixture("entrypoint")["manifest_digest"].get<std::string>());
  auto config = manager_->Config(image);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->entrypoint, (std::vector<std::string>{"/bin/echo", "from-entrypoint"}));
  EXPECT_EQ(config->cmd, std::vector<std::string>{"default-arg"});
  EXPECT_EQ(config->working_dir, "/tmp");
  EXPECT_EQ(config->stop_signal, "SIGINT");
  EXPECT_EQ(manager_->Resolve("berth.test/fixtures/entrypoint")->id, image.id);
}

TEST_F(ImageImportTest, LayersShowWhiteoutsOpaqueDirsAndLinksInTheMountedRootfs) {
  auto image = Import("layers");
  ASSERT_EQ(image.layers.size(), 4u);
  std::string rootfs = MountRootfs(image, "layers-test");
  const auto& expect = Fixture("layers")["expect"];
  for (const auto& [path, content] : expect["files"].items()) {
    EXPECT_EQ(ReadText(rootfs + "/" + path), content.get<std::string>()) << path;
  }
  for (const auto& path : expect["absent"]) {
    EXPECT_FALSE(std::filesystem::exists(
        std::filesystem::symlink_status(rootfs + "/" + path.get<std::string>())))
        << path;
  }
  for (const auto& [path, target] : expect["symlinks"].items()) {
    std::error_code error;
    EXPECT_EQ(std::filesystem::read_symlink(rootfs + "/" + path, error).string(),
              target.get<std::string>())
        << path;
  }
  for (const auto& pair : expect["hardlinks"]) {
    struct stat link {
    }, target{};
    ASSERT_EQ(::lstat((rootfs + "/" + pair[0].get<std::string>()).c_str(), &link), 0);
    ASSERT_EQ(::lstat((rootfs + "/" + pair[1].get<std::string>()).c_str(), &target), 0);
    EXPECT_EQ(link.st_ino, target.st_ino) << pair.dump();
  }
  for (const auto& [path, mode] : expect["modes"].items()) {
    struct stat st {};
    ASSERT_EQ(::lstat((rootfs + "/" + path).c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 07777, std::stoul(mode["mode"].get<std::string>(), nullptr, 8)) << path;
    EXPECT_EQ(st.st_uid, mode["uid"].get<uid_t>()) << path;
    EXPECT_EQ(st.st_gid, mode["gid"].get<gid_t>()) << path;
  }
  // The rootfs is writable and writes land in the snapshot's upper directory only.
  std::ofstream(rootfs + "/new-file") << "written";
  EXPECT_EQ(ReadText(rootfs + "/new-file"), "written");
  EXPECT_GT(manager_->snapshots().SnapshotUsage("layers-test").bytes, 0u);
}

TEST_F(ImageImportTest, ZstdAndDockerSchema2Import) {
  for (const char* name : {"zstd", "docker-schema2"}) {
    auto image = Import(name);
    EXPECT_EQ(image.id, Fixture(name)["image_id"]) << name;
    std::string rootfs = MountRootfs(image, std::string("rootfs-") + name);
    EXPECT_TRUE(std::filesystem::exists(rootfs + "/bin/busybox")) << name;
  }
}

TEST_F(ImageImportTest, MultiArchPicksTheNodePlatform) {
  auto image = Import("multiarch");
  EXPECT_EQ(image.id, Fixture("multiarch")["image_id"]);
  EXPECT_EQ(image.index_digest.String(), Fixture("multiarch")["index_digest"]);
  std::string rootfs = MountRootfs(image, "multiarch");
  EXPECT_EQ(ReadText(rootfs + "/etc/arch"), (*images_)["host_arch"].get<std::string>() + "\n");
}

TEST_F(ImageImportTest, OciArchiveImportsLikeItsLayout) {
  auto imported = manager_->Import(Fixture("busybox")["archive"], "busybox:demo", CancelToken());
  ASSERT_TRUE(imported.ok()) << imported.error().message();
  ASSERT_EQ(imported->size(), 1u);
  EXPECT_EQ(imported->front().id, Fixture("busybox")["image_id"]);
  EXPECT_EQ(imported->front().repo_tags,
            std::vector<std::string>{"docker.io/library/busybox:demo"});
  // The archive was unpacked to a temporary directory that is gone again.
  EXPECT_TRUE(std::filesystem::is_empty(root_.path() + "/content/ingest"));
}

TEST_F(ImageImportTest, DockerSaveArchiveImports) {
  auto imported = manager_->Import(Fixture("user")["docker_archive"], "", CancelToken());
  ASSERT_TRUE(imported.ok()) << imported.error().message();
  ASSERT_EQ(imported->size(), 1u);
  // Same config, so the same image ID as the OCI layout of the same image.
  EXPECT_EQ(imported->front().id, Fixture("user")["image_id"]);
  EXPECT_EQ(imported->front().repo_tags,
            std::vector<std::string>{"berth.test/fixtures/user:saved"});
  // USER appuser is a name: kept as the username, not resolved to a uid (the CRI's rule).
  EXPECT_FALSE(imported->front().uid.has_value());
  EXPECT_EQ(imported->front().username, "appuser");
  std::string rootfs = MountRootfs(imported->front(), "docker-archive");
  EXPECT_TRUE(std::filesystem::exists(rootfs + "/bin/busybox"));
}

TEST_F(ImageImportTest, BadImportsAreClearErrors) {
  auto missing = manager_->Import(root_.path() + "/nope.tar", "", CancelToken());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto not_layout = manager_->Import(mounts_.path(), "", CancelToken());
  ASSERT_FALSE(not_layout.ok());
  EXPECT_NE(not_layout.error().message().find("neither an OCI layout"), std::string::npos);
}

// A docker save manifest.json whose fields have other types was read with json::value() and
// get<std::string>(), which threw out of Import (seen while fixing the same pattern that
// fuzz_cni_result found in the CNI cache).
TEST_F(ImageImportTest, HostileDockerManifestsAreErrors) {
  std::ofstream(mounts_.path() + "/config.json") << "{}";
  for (const char* manifest : {R"(["x"])", R"([{"Config": 7}])", R"([{"Layers": []}])",
                               R"([{"Config": "config.json", "Layers": "layer.tar"}])",
                               R"([{"Config": "config.json", "Layers": [1]}])",
                               R"([{"Config": "config.json", "Layers": [], "RepoTags": [{}]}])"}) {
    std::ofstream(mounts_.path() + "/manifest.json", std::ios::trunc) << manifest;
    auto imported = manager_->Import(mounts_.path(), "", CancelToken());
    ASSERT_FALSE(imported.ok()) << manifest;
    EXPECT_EQ(imported.error().code(), ErrorCode::kInvalidArgument) << imported.error().message();
  }
  auto long_path = manager_->Import("/" + std::string(5000, 'x'), "", CancelToken());
  EXPECT_FALSE(long_path.ok());
}

// The files an import names are opened inside it: a symlink in the archive (absolute or with
// "..") cannot make berthd hash and import a file of the host as a config or layer.
TEST_F(ImageImportTest, SymlinksInAnImportStayInsideIt) {
  TempDir archive{"berth-import-symlinks"};
  std::ofstream(root_.path() + "/outside.json")
      << R"({"rootfs": {"type": "layers", "diff_ids": []}})";
  std::ofstream(archive.path() + "/manifest.json")
      << R"([{"Config": "config.json", "Layers": []}])";
  for (const std::string& target :
       {root_.path() + "/outside.json",
        std::string("../../../../../../..") + root_.path() + "/outside.json"}) {
    std::filesystem::remove(archive.path() + "/config.json");
    std::filesystem::create_symlink(target, archive.path() + "/config.json");
    auto imported = manager_->Import(archive.path(), "", CancelToken());
    ASSERT_FALSE(imported.ok()) << target;
    EXPECT_EQ(imported.error().code(), ErrorCode::kNotFound) << imported.error().message();
  }
  // The same file inside the archive imports.
  std::filesystem::remove(archive.path() + "/config.json");
  std::filesystem::copy_file(root_.path() + "/outside.json", archive.path() + "/config.json");
  auto inside = manager_->Import(archive.path(), "", CancelToken());
  EXPECT_TRUE(inside.ok()) << inside.error().message();
}

TEST_F(ImageImportTest, RemoveFreesWhatNoOtherImageUses) {
  auto busybox = Import("busybox");
  auto entrypoint = Import("entrypoint");  // shares busybox's layer
  auto layers = Import("layers");
  ASSERT_TRUE(manager_->Remove("berth.test/fixtures/layers:latest").ok());
  for (const auto& layer : layers.layers) {
    EXPECT_FALSE(manager_->snapshots().HasLayer(layer.chain_id));
    EXPECT_FALSE(manager_->content().Has(layer.blob));
  }
  EXPECT_FALSE(manager_->content().Has(layers.config_digest));
  EXPECT_TRUE(manager_->snapshots().HasLayer(busybox.layers[0].chain_id));
  ASSERT_TRUE(manager_->Remove(busybox.id).ok());
  // The shared layer stays for the entrypoint image.
  EXPECT_TRUE(manager_->snapshots().HasLayer(entrypoint.layers[0].chain_id));
  ASSERT_TRUE(manager_->Remove("berth.test/fixtures/entrypoint").ok());
  EXPECT_TRUE(manager_->snapshots().ListLayers().empty());
  EXPECT_TRUE(manager_->content().List()->empty());
  EXPECT_EQ(manager_->Remove(busybox.id).error().code(), ErrorCode::kNotFound);
}

TEST_F(ImageImportTest, InUseImagesCannotBeRemoved) {
  auto busybox = Import("busybox");
  manager_->SetInUseCheck([&](const std::string& id) { return id == busybox.id; });
  auto removed = manager_->Remove(busybox.id);
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(manager_->Resolve(busybox.id).ok());
}

TEST_F(ImageImportTest, ImagesSurviveARestart) {
  auto busybox = Import("busybox");
  auto user = Import("user");
  Reopen();
  EXPECT_EQ(manager_->List().size(), 2u);
  EXPECT_EQ(manager_->Resolve("berth.test/fixtures/user:latest")->id, user.id);
  auto config = manager_->Config(*manager_->Resolve(busybox.id));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->cmd, std::vector<std::string>{"sh"});
  // Nothing referenced was collected at start.
  EXPECT_TRUE(manager_->snapshots().HasLayer(busybox.layers[0].chain_id));
}

}  // namespace
}  // namespace berth::testing
