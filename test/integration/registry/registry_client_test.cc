// The registry client against a real docker-registry (test/fixtures/registry.py) in anonymous,
// basic and token mode, with the fixture images pushed to it.
#include "image/registry/registry_client.h"

#include <signal.h>

#include <thread>

#include "gtest/gtest.h"
#include "test/integration/registry/registry_test_util.h"
#include "test/integration/registry_fixture.h"

namespace berth::testing {
namespace {

using image::FetchedManifest;
using image::RegistryClient;
using image::RegistrySession;

constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";

// The fixture images, built once per test process.
const nlohmann::json& Images() {
  static TempDir dir("berth-images");
  static nlohmann::json images = BuildFixtureImages(dir.path());
  return images["images"];
}

std::string Layout(const std::string& name) {
  return Images()[name]["layout"];
}

CancelToken Deadline(std::chrono::milliseconds after) {
  return CancelToken(CancelToken::Clock::now() + after);
}

std::unique_ptr<RegistrySession> Open(const RegistryClient& client, const std::string& ref,
                                      std::optional<RegistryAuth> auth = std::nullopt,
                                      CancelToken cancel = Deadline(std::chrono::seconds(60))) {
  auto session = client.OpenSession(Ref(ref), std::move(auth), std::move(cancel));
  if (!session.ok()) throw std::runtime_error(session.error().message());
  return std::move(session).value();
}

RegistryAuth Password(const std::string& username, const std::string& password) {
  RegistryAuth auth;
  auth.username = username;
  auth.password = password;
  return auth;
}

// Fetches a blob into memory; the digest is checked by the caller, as the puller does.
Result<std::string> FetchBlobBytes(RegistrySession& session, const std::string& digest,
                                   int64_t size) {
  std::string bytes;
  BERTH_TRY(session.FetchBlob(ParseDigest(digest), size, [&](std::string_view chunk) {
    bytes.append(chunk);
    return Ok();
  }));
  return bytes;
}

// A suite with one registry of `kMode` holding busybox, docker-schema2 and multiarch.
template <RegistryMode kMode>
class RegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!MissingRegistryTools().empty()) return;
    registry_ = RegistryFixture::Start(kMode).release();
    for (const char* name : {"busybox", "docker-schema2", "multiarch"}) {
      registry_->Push(Layout(name), std::string(name) + ":latest");
    }
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override {
    if (auto missing = MissingRegistryTools(); !missing.empty()) GTEST_SKIP() << missing;
    ASSERT_NE(registry_, nullptr);
  }
  std::string RefTo(const std::string& repo_tag) const {
    return registry_->host() + "/" + repo_tag;
  }
  RegistryAuth RightCredentials() const {
    return Password(registry_->username(), registry_->password());
  }

  static inline RegistryFixture* registry_ = nullptr;
};

using AnonymousRegistryTest = RegistryTest<RegistryMode::kAnonymous>;
using BasicRegistryTest = RegistryTest<RegistryMode::kBasic>;
using TokenRegistryTest = RegistryTest<RegistryMode::kToken>;

TEST_F(AnonymousRegistryTest, OciManifestByTagAndByDigest) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:latest"));
  const auto& image = Images()["busybox"];
  auto by_tag = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(by_tag.ok()) << by_tag.error().message();
  EXPECT_EQ(by_tag->media_type, kOciManifest);
  EXPECT_EQ(by_tag->digest.String(), image["manifest_digest"]);
  EXPECT_EQ(by_tag->endpoint, registry_->url());  // https was tried first and refused
  EXPECT_EQ(image::ComputeDigest(by_tag->content), by_tag->digest);

  auto by_digest =
      session->FetchManifest(image["manifest_digest"].get<std::string>(), AllManifestTypes());
  ASSERT_TRUE(by_digest.ok()) << by_digest.error().message();
  EXPECT_EQ(by_digest->content, by_tag->content);
  EXPECT_EQ(by_digest->media_type, kOciManifest);
}

TEST_F(AnonymousRegistryTest, DockerSchema2MediaType) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("docker-schema2:latest"));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  EXPECT_EQ(manifest->media_type, kDockerManifest);
  EXPECT_EQ(manifest->digest.String(), Images()["docker-schema2"]["manifest_digest"]);
}

TEST_F(AnonymousRegistryTest, MultiarchIndexThenPlatformManifest) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("multiarch:latest"));
  const auto& image = Images()["multiarch"];
  auto index = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(index.ok()) << index.error().message();
  EXPECT_EQ(index->media_type, kOciIndex);
  EXPECT_EQ(index->digest.String(), image["index_digest"]);
  for (const auto& platform : image["platforms"]) {
    auto manifest =
        session->FetchManifest(platform["manifest_digest"].get<std::string>(), AllManifestTypes());
    ASSERT_TRUE(manifest.ok()) << manifest.error().message();
    EXPECT_EQ(manifest->media_type, kOciManifest);
  }
}

TEST_F(AnonymousRegistryTest, BlobsStreamWithTheirSha256) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:latest"));
  ASSERT_TRUE(session->FetchManifest("latest", AllManifestTypes()).ok());
  const auto& image = Images()["busybox"];
  for (const auto& layer : image["layers"]) {
    auto bytes = FetchBlobBytes(*session, layer["digest"], layer["size"].get<int64_t>());
    ASSERT_TRUE(bytes.ok()) << bytes.error().message();
    EXPECT_EQ(int64_t(bytes->size()), layer["size"].get<int64_t>());
    EXPECT_EQ(image::ComputeDigest(*bytes).String(), layer["digest"]);
  }
}

TEST_F(AnonymousRegistryTest, BlobLargerThanExpectedIsRefused) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:latest"));
  const auto& layer = Images()["busybox"]["layers"][0];
  int64_t limit = layer["size"].get<int64_t>() - 1;
  int64_t received = 0;
  auto fetched =
      session->FetchBlob(ParseDigest(layer["digest"]), limit, [&](std::string_view chunk) {
        received += int64_t(chunk.size());
        return Ok();
      });
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code(), ErrorCode::kInvalidArgument) << fetched.error().message();
  EXPECT_LE(received, limit);
}

TEST_F(AnonymousRegistryTest, UnknownTagAndBlobAreNotFound) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:nope"));
  auto manifest = session->FetchManifest("nope", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kNotFound) << manifest.error().message();
  EXPECT_NE(manifest.error().message().find("manifest for " + registry_->host() +
                                            "/busybox:nope not found at " + registry_->url()),
            std::string::npos)
      << manifest.error().message();

  auto blob = session->FetchBlob(image::ComputeDigest("no such blob"), 12,
                                 [](std::string_view) { return Ok(); });
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code(), ErrorCode::kNotFound) << blob.error().message();
}

TEST_F(AnonymousRegistryTest, ExpiredDeadlineAndCancel) {
  RegistryClient client(RegistryConfig{});
  auto session =
      Open(client, RefTo("busybox:latest"), std::nullopt, Deadline(std::chrono::milliseconds(1)));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kDeadlineExceeded) << manifest.error().message();

  CancelToken cancel;
  auto cancelled_session = Open(client, RefTo("busybox:latest"), std::nullopt, cancel);
  cancel.Cancel();
  auto cancelled = cancelled_session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code(), ErrorCode::kCancelled);
}

TEST_F(AnonymousRegistryTest, MirrorFallbackSkipsADeadMirror) {
  std::string dead_mirror = "http://127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  std::string dead_origin = "127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  RegistryConfig config;
  config.mirrors[dead_origin] = {dead_mirror, registry_->url()};
  RegistryClient client(config);
  auto session = Open(client, dead_origin + "/busybox:latest");
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  EXPECT_EQ(manifest->endpoint, registry_->url());
  // Blobs go to the endpoint that served the manifest.
  const auto& layer = Images()["busybox"]["layers"][0];
  auto bytes = FetchBlobBytes(*session, layer["digest"], layer["size"].get<int64_t>());
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  EXPECT_EQ(image::ComputeDigest(*bytes).String(), layer["digest"]);
}

TEST_F(AnonymousRegistryTest, MirrorFallbackSkipsAMirrorWithoutTheImage) {
  auto empty = RegistryFixture::Start(RegistryMode::kAnonymous);
  std::string dead_origin = "127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  RegistryConfig config;
  config.mirrors[dead_origin] = {empty->url(), registry_->url()};
  RegistryClient client(config);
  auto session = Open(client, dead_origin + "/busybox:latest");
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  EXPECT_EQ(manifest->endpoint, registry_->url());
}

TEST_F(AnonymousRegistryTest, AllEndpointsDeadIsUnavailableNamingThem) {
  std::string dead_mirror = "http://127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  std::string dead_origin = "127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  RegistryConfig config;
  config.mirrors[dead_origin] = {dead_mirror};
  RegistryClient client(config);
  auto session = Open(client, dead_origin + "/busybox:latest");
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kUnavailable);
  const std::string& message = manifest.error().message();
  EXPECT_NE(message.find(dead_mirror), std::string::npos) << message;
  EXPECT_NE(message.find("https://" + dead_origin), std::string::npos) << message;
  EXPECT_NE(message.find("http://" + dead_origin), std::string::npos) << message;
}

TEST_F(AnonymousRegistryTest, ConcurrentSessionsShareOneClient) {
  RegistryClient client(RegistryConfig{});
  const auto& layer = Images()["busybox"]["layers"][0];
  std::vector<std::thread> threads;
  std::atomic<int> succeeded{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto session = Open(client, RefTo("busybox:latest"));
      auto bytes = session->FetchManifest("latest", AllManifestTypes()).ok()
                       ? FetchBlobBytes(*session, layer["digest"], layer["size"].get<int64_t>())
                       : Result<std::string>(Internal("manifest failed"));
      if (bytes.ok() && image::ComputeDigest(*bytes).String() == layer["digest"]) ++succeeded;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(succeeded.load(), 4);
}

TEST_F(AnonymousRegistryTest, CorruptBlobIsServedAndTheCallerSeesTheMismatch) {
  const auto& image = Images()["entrypoint"];
  registry_->Push(Layout("entrypoint"), "corrupted:latest");
  registry_->Corrupt(image["config_digest"]);
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("corrupted:latest"));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  auto config = nlohmann::json::parse(manifest->content)["config"];
  auto bytes = FetchBlobBytes(*session, config["digest"], config["size"].get<int64_t>());
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  EXPECT_NE(image::ComputeDigest(*bytes).String(), config["digest"]);
}

TEST_F(BasicRegistryTest, RightCredentials) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:latest"), RightCredentials());
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  const auto& layer = Images()["busybox"]["layers"][0];
  auto bytes = FetchBlobBytes(*session, layer["digest"], layer["size"].get<int64_t>());
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  EXPECT_EQ(image::ComputeDigest(*bytes).String(), layer["digest"]);
}

TEST_F(BasicRegistryTest, CredentialsFromConfigAuthField) {
  RegistryConfig config;
  config.auths[registry_->host()].auth =
      image::registry::Base64Encode(registry_->username() + ":" + registry_->password());
  RegistryClient client(config);
  auto session = Open(client, RefTo("busybox:latest"));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
}

TEST_F(BasicRegistryTest, WrongPasswordIsUnauthenticatedAndNeverPrinted) {
  const std::string secret = "wrong-Secret-4242";
  LogCapture log;
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:latest"), Password(registry_->username(), secret));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kUnauthenticated);
  const std::string& message = manifest.error().message();
  EXPECT_NE(message.find(registry_->host() + "/busybox: authentication failed at " +
                         registry_->url() + ": 401 Unauthorized"),
            std::string::npos)
      << message;
  std::string basic = image::registry::Base64Encode(registry_->username() + ":" + secret);
  for (const std::string& text : {message, log.text()}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_EQ(text.find(basic), std::string::npos) << text;
  }
}

TEST_F(BasicRegistryTest, NoCredentialsIsUnauthenticated) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:latest"));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(manifest.error().message().find("authentication required"), std::string::npos)
      << manifest.error().message();
}

TEST_F(TokenRegistryTest, TokenIsFetchedOnceAndShared) {
  RegistryClient client(RegistryConfig{});
  const auto& layer = Images()["busybox"]["layers"][0];
  int before = registry_->TokenRequests();
  for (int i = 0; i < 2; ++i) {
    auto session = Open(client, RefTo("busybox:latest"), RightCredentials());
    auto manifest = session->FetchManifest("latest", AllManifestTypes());
    ASSERT_TRUE(manifest.ok()) << manifest.error().message();
    auto bytes = FetchBlobBytes(*session, layer["digest"], layer["size"].get<int64_t>());
    ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  }
  EXPECT_EQ(registry_->TokenRequests() - before, 1);
  EXPECT_EQ(client.cached_tokens(), 1u);
}

TEST_F(TokenRegistryTest, WrongPasswordIsUnauthenticatedAndNeverPrinted) {
  const std::string secret = "wrong-Token-Secret-77";
  LogCapture log;
  RegistryClient client(RegistryConfig{});
  // A token cached for the right credentials must not serve the wrong ones.
  ASSERT_TRUE(Open(client, RefTo("busybox:latest"), RightCredentials())
                  ->FetchManifest("latest", AllManifestTypes())
                  .ok());
  auto session = Open(client, RefTo("busybox:latest"), Password(registry_->username(), secret));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kUnauthenticated);
  const std::string& message = manifest.error().message();
  EXPECT_NE(message.find("authentication failed at " + registry_->url()), std::string::npos)
      << message;
  EXPECT_NE(message.find("401"), std::string::npos) << message;
  std::string basic = image::registry::Base64Encode(registry_->username() + ":" + secret);
  for (const std::string& text : {message, log.text()}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_EQ(text.find(basic), std::string::npos) << text;
    EXPECT_EQ(text.find(registry_->password()), std::string::npos) << text;
  }
}

TEST_F(TokenRegistryTest, NoCredentialsIsUnauthenticated) {
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, RefTo("busybox:latest"));
  auto manifest = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kUnauthenticated) << manifest.error().message();
}

TEST(RegistryFixtureTest, StopLeavesNoProcessBehind) {
  if (auto missing = MissingRegistryTools(); !missing.empty()) GTEST_SKIP() << missing;
  auto registry = RegistryFixture::Start(RegistryMode::kToken);
  std::vector<pid_t> pids;
  for (const auto& pid : registry->info()["pids"]) pids.push_back(pid.get<pid_t>());
  ASSERT_EQ(pids.size(), 3u);
  registry->Stop();
  for (pid_t pid : pids) {
    // Gone, not even a zombie: kill(pid, 0) would succeed on a zombie.
    EXPECT_NE(::kill(pid, 0), 0) << "pid " << pid << " is still there";
  }
}

}  // namespace
}  // namespace berth::testing
