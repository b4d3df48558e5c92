// PullImage and the other ImageService RPCs through berthd's socket, against Debian's real
// docker-registry (test/fixtures) in its three auth modes.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "gtest/gtest.h"
#include "test/integration/registry_fixture.h"

namespace berth::testing {
namespace {

using ::runtime::v1::ImageStatusRequest;
using ::runtime::v1::ImageStatusResponse;
using ::runtime::v1::PullImageRequest;
using ::runtime::v1::PullImageResponse;

class ImagePullTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    BecomeChildSubreaper();
    images_ = &SharedFixtureImages();
  }
  void SetUp() override {
    if (auto missing = MissingRegistryTools(); !missing.empty()) GTEST_SKIP() << missing;
  }

  const nlohmann::json& Fixture(const std::string& name) { return (*images_)["images"][name]; }
  std::string Layout(const std::string& name) { return Fixture(name)["layout"]; }

  // Starts berthd with `registries_yaml` (the body of the registries: key).
  void StartBerthd(const std::string& registries_yaml) {
    std::string config = config_dir_.path() + "/berth.yaml";
    std::ofstream(config) << berthd_.NetworkYaml() << "registries:\n" << registries_yaml;
    ASSERT_TRUE(berthd_.Start({"--config", config}));
  }
  void StartBerthdFor(const RegistryFixture& registry) {
    StartBerthd("  insecure: [\"" + registry.host() + "\"]\n");
  }

  grpc::Status Pull(const std::string& image, PullImageResponse* response,
                    const std::string& username = "", const std::string& password = "",
                    int deadline_seconds = 120) {
    PullImageRequest request;
    request.mutable_image()->set_image(image);
    if (!username.empty()) {
      request.mutable_auth()->set_username(username);
      request.mutable_auth()->set_password(password);
    }
    return berthd_.images().PullImage(CallContext(deadline_seconds).get(), request, response);
  }
  ImageStatusResponse Status(const std::string& image) {
    ImageStatusRequest request;
    request.mutable_image()->set_image(image);
    ImageStatusResponse response;
    EXPECT_TRUE(berthd_.images().ImageStatus(CallContext().get(), request, &response).ok());
    return response;
  }
  size_t ImageCount() {
    ::runtime::v1::ListImagesResponse response;
    EXPECT_TRUE(berthd_.images().ListImages(CallContext().get(), {}, &response).ok());
    return static_cast<size_t>(response.images_size());
  }
  // Files under the snapshot and content stores (both empty when nothing is stored).
  size_t StoredEntries() {
    size_t count = 0;
    for (const char* dir : {"/snapshots/layers", "/content/blobs/sha256"}) {
      std::error_code error;
      for (const auto& entry : std::filesystem::directory_iterator(berthd_.root() + dir, error)) {
        (void)entry;
        ++count;
      }
    }
    return count;
  }

  static const nlohmann::json* images_;
  TempDir config_dir_{"berth-pull-config"};
  BerthdProcess berthd_;
};

const nlohmann::json* ImagePullTest::images_ = nullptr;

TEST_F(ImagePullTest, PullByTagAndByDigestAnonymously) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  registry->Push(Layout("busybox"), "fixtures/busybox:1.36");
  StartBerthdFor(*registry);

  std::string name = registry->host() + "/fixtures/busybox:1.36";
  PullImageResponse response;
  auto status = Pull(name, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.image_ref(), Fixture("busybox")["image_id"]);

  auto image = Status(name).image();
  EXPECT_EQ(image.id(), response.image_ref());
  ASSERT_EQ(image.repo_tags_size(), 1);
  EXPECT_EQ(image.repo_tags(0), name);
  std::string by_digest = registry->host() + "/fixtures/busybox@" +
                          Fixture("busybox")["manifest_digest"].get<std::string>();
  ASSERT_EQ(image.repo_digests_size(), 1);
  EXPECT_EQ(image.repo_digests(0), by_digest);
  EXPECT_GT(image.size(), 0u);

  PullImageResponse again;
  ASSERT_TRUE(Pull(by_digest, &again).ok());
  EXPECT_EQ(again.image_ref(), response.image_ref());
  EXPECT_EQ(Status(by_digest).image().id(), response.image_ref());
  EXPECT_EQ(ImageCount(), 1u);
}

TEST_F(ImagePullTest, MultiArchZstdAndDockerSchema2) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  for (const char* name : {"multiarch", "zstd", "docker-schema2", "user"}) {
    registry->Push(Layout(name), std::string("fixtures/") + name + ":latest");
  }
  StartBerthdFor(*registry);
  for (const char* name : {"multiarch", "zstd", "docker-schema2", "user"}) {
    PullImageResponse response;
    auto status = Pull(registry->host() + "/fixtures/" + name, &response);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error_message();
    EXPECT_EQ(response.image_ref(), Fixture(name)["image_id"]) << name;
  }
  // A multi-arch image's repo digest is the index's digest, what the tag names.
  auto multiarch = Status(registry->host() + "/fixtures/multiarch:latest").image();
  EXPECT_EQ(multiarch.repo_digests(0), registry->host() + "/fixtures/multiarch@" +
                                           Fixture("multiarch")["index_digest"].get<std::string>());
  // The image's USER "appuser" is a name: the CRI (and its validation suite) wants the username
  // and no uid, as containerd reports it; kubelet then treats runAsNonRoot as unverifiable.
  auto user = Status(registry->host() + "/fixtures/user").image();
  EXPECT_FALSE(user.has_uid());
  EXPECT_EQ(user.username(), "appuser");
}

TEST_F(ImagePullTest, BasicAuth) {
  auto registry = RegistryFixture::Start(RegistryMode::kBasic);
  registry->Push(Layout("busybox"), "private/busybox:latest");
  StartBerthdFor(*registry);
  std::string name = registry->host() + "/private/busybox";

  PullImageResponse response;
  auto anonymous = Pull(name, &response);
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED) << anonymous.error_message();
  std::string wrong_password = "wrong-" + registry->password();
  auto wrong = Pull(name, &response, registry->username(), wrong_password);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED) << wrong.error_message();
  EXPECT_EQ(wrong.error_message().find(wrong_password), std::string::npos);
  EXPECT_EQ(ImageCount(), 0u);

  auto right = Pull(name, &response, registry->username(), registry->password());
  ASSERT_TRUE(right.ok()) << right.error_message();
  EXPECT_EQ(response.image_ref(), Fixture("busybox")["image_id"]);
  // Credentials never reach the log.
  std::string log = berthd_.ReadLog();
  EXPECT_EQ(log.find(registry->password()), std::string::npos);
  EXPECT_EQ(log.find(wrong_password), std::string::npos);
}

TEST_F(ImagePullTest, BearerTokenAuth) {
  auto registry = RegistryFixture::Start(RegistryMode::kToken);
  registry->Push(Layout("busybox"), "private/busybox:latest");
  // The token service is plain HTTP too: credentials go to it only when it is marked insecure.
  std::string token_url = registry->info()["token_url"];
  std::string token_host = std::regex_replace(token_url, std::regex("^https?://([^/]+).*$"), "$1");
  StartBerthd("  insecure: [\"" + registry->host() + "\", \"" + token_host + "\"]\n");
  std::string name = registry->host() + "/private/busybox";
  PullImageResponse response;
  auto wrong = Pull(name, &response, registry->username(), "not-the-password");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED) << wrong.error_message();
  auto right = Pull(name, &response, registry->username(), registry->password());
  ASSERT_TRUE(right.ok()) << right.error_message();
  EXPECT_EQ(response.image_ref(), Fixture("busybox")["image_id"]);
  EXPECT_EQ(berthd_.ReadLog().find(registry->password()), std::string::npos);
}

TEST_F(ImagePullTest, MirrorsAreTriedInOrderAndNamesStayAsRequested) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  registry->Push(Layout("busybox"), "library/busybox:latest");
  int dead = UnusedLoopbackPort();
  StartBerthd("  mirrors:\n    docker.io: [\"http://127.0.0.1:" + std::to_string(dead) + "\", \"" +
              registry->url() + "\"]\n");
  PullImageResponse response;
  auto status = Pull("busybox", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto image = Status("docker.io/library/busybox:latest").image();
  ASSERT_EQ(image.repo_tags_size(), 1);
  EXPECT_EQ(image.repo_tags(0), "docker.io/library/busybox:latest");
  EXPECT_EQ(image.repo_digests(0).rfind("docker.io/library/busybox@sha256:", 0), 0u);
  EXPECT_NE(berthd_.ReadLog().find(registry->url()), std::string::npos);
}

TEST_F(ImagePullTest, CorruptedBlobFailsAndStoresNothing) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  registry->Push(Layout("busybox"), "fixtures/busybox:latest");
  registry->Corrupt(Fixture("busybox")["layers"][0]["digest"]);
  StartBerthdFor(*registry);
  PullImageResponse response;
  auto status = Pull(registry->host() + "/fixtures/busybox", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("digest mismatch"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(ImageCount(), 0u);
  // The whole blobs the failed pull fetched before the bad one (manifest, config) are freed.
  EXPECT_EQ(StoredEntries(), 0u);
}

TEST_F(ImagePullTest, DeadlineIsHonouredAndLeavesNothing) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  registry->Push(Layout("layers"), "fixtures/layers:latest");
  StartBerthdFor(*registry);
  PullImageRequest request;
  request.mutable_image()->set_image(registry->host() + "/fixtures/layers");
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1));
  PullImageResponse response;
  auto status = berthd_.images().PullImage(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(ImageCount(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(berthd_.root() + "/content/ingest"));
  EXPECT_EQ(StoredEntries(), 0u);
}

TEST_F(ImagePullTest, ConcurrentIdenticalPullsShareOneDownload) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  registry->Push(Layout("layers"), "fixtures/layers:latest");
  StartBerthdFor(*registry);
  std::string name = registry->host() + "/fixtures/layers:latest";
  std::vector<std::thread> pullers;
  std::vector<std::string> refs(4);
  for (int i = 0; i < 4; ++i) {
    pullers.emplace_back([&, i] {
      PullImageResponse response;
      auto status = Pull(name, &response);
      refs[i] = status.ok() ? response.image_ref() : status.error_message();
    });
  }
  for (auto& puller : pullers) puller.join();
  for (const auto& ref : refs) EXPECT_EQ(ref, Fixture("layers")["image_id"]);
  // Every layer blob was fetched once.
  std::string log = registry->ReadLog("registry.log");
  for (const auto& layer : Fixture("layers")["layers"]) {
    std::regex get("GET /v2/fixtures/layers/blobs/" + layer["digest"].get<std::string>());
    auto count =
        std::distance(std::sregex_iterator(log.begin(), log.end(), get), std::sregex_iterator());
    EXPECT_LE(count, 1) << layer["digest"];
  }
}

TEST_F(ImagePullTest, HostileLayersWriteNothingOutsideTheRoot) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  TempDir hostile_dir("berth-hostile");
  auto built = RunCommand({"/usr/bin/env", "python3",
                           std::string(BERTH_SOURCE_DIR) + "/test/fixtures/hostile.py", "build",
                           hostile_dir.path()});
  ASSERT_EQ(built.exit_code, 0) << built.output;
  auto cases = nlohmann::json::parse(std::ifstream(hostile_dir.path() + "/hostile.json"));
  for (const auto& [name, info] : cases.items()) {
    registry->Push(info["layout"], "hostile/" + name + ":latest");
  }
  StartBerthdFor(*registry);
  for (const auto& [name, info] : cases.items()) {
    PullImageResponse response;
    auto status = Pull(registry->host() + "/hostile/" + name, &response);
    // Either refused, or confined inside the layer: never outside.
    if (!status.ok()) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << name << ": " << status.error_message();
    }
    EXPECT_FALSE(std::filesystem::exists("/tmp/berth-escape-" + name)) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(berthd_.root()).parent_path() /
                                       "berth-escape-dotdot"));
}

TEST_F(ImagePullTest, RemoveStatusFsInfoAndRestart) {
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  registry->Push(Layout("busybox"), "fixtures/busybox:latest");
  registry->Push(Layout("layers"), "fixtures/layers:latest");
  StartBerthdFor(*registry);
  PullImageResponse response;
  ASSERT_TRUE(Pull(registry->host() + "/fixtures/busybox", &response).ok());
  ASSERT_TRUE(Pull(registry->host() + "/fixtures/layers", &response).ok());

  ::runtime::v1::ImageFsInfoResponse before;
  ASSERT_TRUE(berthd_.images().ImageFsInfo(CallContext().get(), {}, &before).ok());
  ASSERT_EQ(before.image_filesystems_size(), 1);
  EXPECT_EQ(before.image_filesystems(0).fs_id().mountpoint(), berthd_.root());
  EXPECT_GT(before.image_filesystems(0).used_bytes().value(), 2'000'000u);

  // Restart keeps both.
  ASSERT_EQ(berthd_.Stop(), 0);
  ASSERT_TRUE(berthd_.Start({"--config", config_dir_.path() + "/berth.yaml"}));
  EXPECT_EQ(ImageCount(), 2u);

  ::runtime::v1::RemoveImageRequest remove;
  remove.mutable_image()->set_image(registry->host() + "/fixtures/layers");
  ::runtime::v1::RemoveImageResponse removed;
  ASSERT_TRUE(berthd_.images().RemoveImage(CallContext().get(), remove, &removed).ok());
  EXPECT_EQ(ImageCount(), 1u);
  ::runtime::v1::ImageFsInfoResponse after;
  ASSERT_TRUE(berthd_.images().ImageFsInfo(CallContext().get(), {}, &after).ok());
  EXPECT_LT(after.image_filesystems(0).used_bytes().value(),
            before.image_filesystems(0).used_bytes().value());
  // Removing again, or an unknown image, is fine; its status is empty.
  EXPECT_TRUE(berthd_.images().RemoveImage(CallContext().get(), remove, &removed).ok());
  EXPECT_FALSE(Status(registry->host() + "/fixtures/layers").has_image());
}

TEST_F(ImagePullTest, BadReferencesAndUnknownImages) {
  StartBerthd("  insecure: []\n");
  PullImageResponse response;
  auto bad = Pull("Busybox:latest", &response);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("lowercase"), std::string::npos) << bad.error_message();
  EXPECT_EQ(Pull("", &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Unreachable registry: Unavailable, naming it.
  int dead = UnusedLoopbackPort();
  auto unreachable = Pull("127.0.0.1:" + std::to_string(dead) + "/x/y:1", &response);
  EXPECT_EQ(unreachable.error_code(), grpc::StatusCode::UNAVAILABLE) << unreachable.error_message();
  EXPECT_FALSE(Status("never/pulled:1").has_image());
}

}  // namespace
}  // namespace berth::testing
