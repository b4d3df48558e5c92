// PullImage failures through a real berthd: when berthd's root runs out of space (a small tmpfs
// as --root) the answer is always RESOURCE_EXHAUSTED, whichever of the concurrent layer
// downloads (or the unpack) meets the full disk first; more generally the first real error of a
// pull is what the caller gets, never the cancellations it causes in the sibling downloads. And
// nothing of a failed pull is left behind.
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "gtest/gtest.h"
#include "test/integration/registry/fake_http_server.h"
#include "test/integration/registry_fixture.h"

namespace berth::testing {
namespace {

// A tmpfs of `size` mounted on `path` for the test's lifetime.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path);
    std::string options = "size=" + size + ",mode=0711";
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Builds an OCI layout with images.py from `layers` (a Python list expression over its API) and
// returns its images.json-style record.
nlohmann::json BuildImage(const std::string& dir, const std::string& layers) {
  std::string script =
      "import json, os, sys\n"
      "sys.path.insert(0, '" +
      std::string(BERTH_SOURCE_DIR) +
      "/test/fixtures')\n"
      "from images import *\n"
      "spec = ImageSpec(layers=" +
      layers +
      ", config={'Cmd': ['sh']})\n"
      "print(json.dumps(build_image(spec, sys.argv[1])))\n";
  auto run = RunCommand({"/usr/bin/env", "python3", "-c", script, dir});
  if (run.exit_code != 0) throw std::runtime_error("images.py: " + run.output);
  return nlohmann::json::parse(run.output.substr(run.output.find('{')));
}

std::string ReadBlob(const std::string& layout, const std::string& digest) {
  std::ifstream file(layout + "/blobs/sha256/" + digest.substr(digest.find(':') + 1),
                     std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

// A registry made of one OCI layout, whose blobs can be held back or spoiled: the sibling
// downloads of a failing one are then reliably still in flight.
class LayoutRegistry {
 public:
  LayoutRegistry(const nlohmann::json& image, std::string slow_blob, std::string bad_blob = "")
      : image_(image),
        slow_blob_(std::move(slow_blob)),
        bad_blob_(std::move(bad_blob)),
        server_([this](const FakeRequest& request) { return Answer(request); }) {}
  std::string host() const { return server_.host(); }

 private:
  FakeResponse Answer(const FakeRequest& request) {
    FakeResponse response;
    const std::string& target = request.target;
    std::string layout = image_["layout"];
    if (target == "/v2/") return response;
    if (target.find("/manifests/") != std::string::npos) {
      std::string digest = image_["manifest_digest"];
      response.body = ReadBlob(layout, digest);
      response.headers = {{"Content-Type", image_["media_type"]},
                          {"Docker-Content-Digest", digest}};
      return response;
    }
    if (size_t at = target.find("/blobs/"); at != std::string::npos) {
      std::string digest = target.substr(at + 7);
      response.body = ReadBlob(layout, digest);
      if (digest == slow_blob_) response.stall = std::chrono::seconds(5);
      if (digest == bad_blob_) response.body.assign(response.body.size(), 'x');
      return response;
    }
    response.status = 404;
    return response;
  }

  nlohmann::json image_;
  std::string slow_blob_;
  std::string bad_blob_;
  FakeHttpServer server_;
};

class PullErrorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { BecomeChildSubreaper(); }
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    if (auto missing = MissingRegistryTools(); !missing.empty()) GTEST_SKIP() << missing;
  }
  void TearDown() override {
    berthd_.Stop();  // before the tmpfs under its root goes
    tmpfs_.reset();
  }

  // berthd with `hosts` as insecure registries, on a tmpfs of `size` when it is not empty.
  void StartBerthd(const std::vector<std::string>& hosts, const std::string& size = "") {
    if (!size.empty()) {
      tmpfs_ = std::make_unique<TmpfsMount>(berthd_.root(), size);
      ASSERT_TRUE(tmpfs_->mounted()) << "mount tmpfs on " << berthd_.root();
    }
    std::string config = config_dir_.path() + "/berth.yaml";
    std::ofstream file(config);
    file << berthd_.NetworkYaml() << "registries:\n  insecure:\n";
    for (const auto& host : hosts) file << "    - \"" << host << "\"\n";
    file.close();
    ASSERT_TRUE(berthd_.Start({"--config", config}));
  }
  grpc::Status Pull(const std::string& image) {
    ::runtime::v1::PullImageRequest request;
    request.mutable_image()->set_image(image);
    ::runtime::v1::PullImageResponse response;
    return berthd_.images().PullImage(CallContext(120).get(), request, &response);
  }
  void ExpectNothingLeft(const std::string& attempt) {
    EXPECT_EQ(EntriesIn(berthd_.root() + "/content/ingest"), 0u) << attempt;
    EXPECT_EQ(EntriesIn(berthd_.root() + "/content/blobs/sha256"), 0u) << attempt;
    EXPECT_EQ(EntriesIn(berthd_.root() + "/snapshots/layers"), 0u) << attempt;
    EXPECT_EQ(EntriesIn(berthd_.root() + "/snapshots/active"), 0u) << attempt;
  }
  void ExpectDiskFull(const std::string& image, const std::string& what) {
    auto status = Pull(image);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << what << ": " << status.error_code() << " " << status.error_message();
    EXPECT_NE(status.error_message().find("No space left on device"), std::string::npos)
        << what << ": " << status.error_message();
    ExpectNothingLeft(what);
  }

  TempDir images_dir_{"berth-pull-errors-images"};
  TempDir config_dir_{"berth-pull-errors-config"};
  BerthdProcess berthd_;
  std::unique_ptr<TmpfsMount> tmpfs_;
};

TEST_F(PullErrorsTest, DiskFullIsResourceExhaustedWhileASiblingDownloadIsStillWaiting) {
  // Layer 1 (random, so incompressible) is larger than the disk; layer 0 is held back by the
  // registry, so it is still in flight, and then cancelled, when layer 1 fails.
  auto image = BuildImage(images_dir_.path() + "/big",
                          "[rootfs_layer(), Layer([File('big', os.urandom(30 << 20))])]");
  LayoutRegistry registry(image, image["layers"][0]["digest"]);
  StartBerthd({registry.host()}, "24m");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ExpectDiskFull(registry.host() + "/diskfull/big:1", "attempt " + std::to_string(attempt));
  }
}

TEST_F(PullErrorsTest, DiskFullWhileDownloadingOrUnpackingLeavesNothingAndSpaceIsFreedAgain) {
  // Two random layers that do not fit together, downloaded at the same time; and a layer that
  // downloads small and unpacks larger than the disk.
  auto big = BuildImage(images_dir_.path() + "/big",
                        "[Layer([File('a', os.urandom(14 << 20))]),"
                        " Layer([File('b', os.urandom(14 << 20))]), rootfs_layer()]");
  auto sparse = BuildImage(images_dir_.path() + "/unpack",
                           "[rootfs_layer(), Layer([File('zeros', bytes(40 << 20))])]");
  auto registry = RegistryFixture::Start(RegistryMode::kAnonymous);
  registry->Push(big["layout"], "diskfull/big:1");
  registry->Push(sparse["layout"], "diskfull/unpack:1");
  registry->Push(SharedFixtureImages()["images"]["busybox"]["layout"], "diskfull/busybox:1");
  StartBerthd({registry->host()}, "24m");
  for (const char* image : {"diskfull/big:1", "diskfull/unpack:1"}) {
    for (int attempt = 1; attempt <= 3; ++attempt) {
      ExpectDiskFull(registry->host() + "/" + image,
                     std::string(image) + " attempt " + std::to_string(attempt));
    }
  }
  // The space is free again: a small image pulls.
  auto small = Pull(registry->host() + "/diskfull/busybox:1");
  EXPECT_TRUE(small.ok()) << small.error_message();
}

TEST_F(PullErrorsTest, ABadLayerIsReportedNotTheCancellationOfItsSiblings) {
  auto image = BuildImage(images_dir_.path() + "/bad",
                          "[rootfs_layer(), Layer([File('data', os.urandom(1 << 20))])]");
  LayoutRegistry registry(image, image["layers"][0]["digest"], image["layers"][1]["digest"]);
  StartBerthd({registry.host()});
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto status = Pull(registry.host() + "/spoiled/image:1");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << "attempt " << attempt << ": " << status.error_code() << " " << status.error_message();
    EXPECT_NE(status.error_message().find("digest mismatch"), std::string::npos)
        << status.error_message();
    ExpectNothingLeft("attempt " + std::to_string(attempt));
  }
}

}  // namespace
}  // namespace berth::testing
