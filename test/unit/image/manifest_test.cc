#include "image/manifest.h"

#include <string>

#include "gtest/gtest.h"

namespace berth::image {
namespace {

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');
const std::string kDigestC = "sha256:" + std::string(64, 'c');

std::string Entry(const std::string& digest, const std::string& platform_json) {
  return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest +
         R"(","size":100,"platform":)" + platform_json + "}";
}

TEST(ManifestTest, ClassifiesByMediaTypeOrShape) {
  EXPECT_EQ(*ClassifyManifest(media_type::kOciIndex, "{}"), ManifestKind::kIndex);
  EXPECT_EQ(*ClassifyManifest(media_type::kDockerManifestList, "{}"), ManifestKind::kIndex);
  EXPECT_EQ(*ClassifyManifest(media_type::kDockerManifest, "{}"), ManifestKind::kImage);
  EXPECT_EQ(*ClassifyManifest("application/vnd.oci.image.manifest.v1+json; charset=utf-8", "{}"),
            ManifestKind::kImage);
  // No Content-Type: the document's own mediaType, else its shape.
  EXPECT_EQ(*ClassifyManifest("", R"({"mediaType":"application/vnd.oci.image.index.v1+json"})"),
            ManifestKind::kIndex);
  EXPECT_EQ(*ClassifyManifest("", R"({"manifests":[]})"), ManifestKind::kIndex);
  EXPECT_EQ(*ClassifyManifest("", R"({"config":{},"layers":[]})"), ManifestKind::kImage);

  auto schema1 = ClassifyManifest(media_type::kDockerSchema1Signed, "{}");
  ASSERT_FALSE(schema1.ok());
  EXPECT_EQ(schema1.error().code(), ErrorCode::kFailedPrecondition);
  auto unknown = ClassifyManifest("application/vnd.example+json", "{}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("application/vnd.example+json"), std::string::npos);
  EXPECT_FALSE(ClassifyManifest("", "not json").ok());
}

TEST(ManifestTest, ParsesAnImageManifest) {
  std::string text = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                     kDigestA +
                     R"(","size":321},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                     kDigestB +
                     R"(","size":1000},
              {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" +
                     kDigestC + R"(","size":2000}]})";
  auto manifest = ParseImageManifest(text);
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  EXPECT_EQ(manifest->config.digest.String(), kDigestA);
  EXPECT_EQ(manifest->config.size, 321);
  ASSERT_EQ(manifest->layers.size(), 2u);
  EXPECT_EQ(manifest->layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
}

TEST(ManifestTest, RejectsBadManifests) {
  auto config = R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                kDigestA + R"(","size":1})";
  // A layer type berth cannot unpack.
  auto bad_layer = ParseImageManifest("{" + config +
                                      R"(,"layers":[{"mediaType":"application/x-foo","digest":")" +
                                      kDigestB + R"(","size":1}]})");
  ASSERT_FALSE(bad_layer.ok());
  EXPECT_NE(bad_layer.error().message().find("application/x-foo"), std::string::npos);
  // Not a container image (e.g. a Helm chart artifact).
  EXPECT_FALSE(
      ParseImageManifest(
          R"({"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":")" +
          kDigestA + R"(","size":1},"layers":[]})")
          .ok());
  // Bad digest, negative size, missing layers.
  EXPECT_FALSE(
      ParseImageManifest(
          R"({"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"md5:00","size":1},"layers":[]})")
          .ok());
  EXPECT_FALSE(
      ParseImageManifest(
          R"({"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
          kDigestA + R"(","size":-1},"layers":[]})")
          .ok());
  EXPECT_FALSE(ParseImageManifest("{" + config + "}").ok());
  EXPECT_FALSE(ParseImageManifest(std::string(kMaxManifestBytes + 1, ' ')).ok());
}

TEST(ManifestTest, SelectsThePlatform) {
  auto index =
      ParseImageIndex(R"({"manifests":[)" +
                      Entry(kDigestA, R"({"os":"linux","architecture":"arm64","variant":"v8"})") +
                      "," + Entry(kDigestB, R"({"os":"linux","architecture":"amd64"})") + "," +
                      Entry(kDigestC, R"({"os":"unknown","architecture":"unknown"})") + "]}");
  ASSERT_TRUE(index.ok()) << index.error().message();
  EXPECT_EQ(SelectPlatform(*index, {"linux", "amd64", ""})->digest.String(), kDigestB);
  // arm64/v8 is plain arm64.
  EXPECT_EQ(SelectPlatform(*index, {"linux", "arm64", ""})->digest.String(), kDigestA);
  auto none = SelectPlatform(*index, {"linux", "s390x", ""});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(none.error().message().find("linux/amd64"), std::string::npos)
      << none.error().message();
}

TEST(ManifestTest, ArmVariantsFallBackToOlderOnes) {
  auto index = ParseImageIndex(
      R"({"manifests":[)" +
      Entry(kDigestA, R"({"os":"linux","architecture":"arm","variant":"v5"})") + "," +
      Entry(kDigestB, R"({"os":"linux","architecture":"arm","variant":"v6"})") + "]}");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(SelectPlatform(*index, {"linux", "arm", "v7"})->digest.String(), kDigestB);
  EXPECT_EQ(SelectPlatform(*index, {"linux", "arm", "v5"})->digest.String(), kDigestA);
}

TEST(ManifestTest, ParsesTheImageConfig) {
  std::string text = R"({"architecture":"amd64","os":"linux",
    "config":{"User":"1234:5678","Env":["PATH=/bin","A=b"],"Entrypoint":["/bin/echo"],
              "Cmd":null,"WorkingDir":"/srv","ExposedPorts":{"80/tcp":{},"53/udp":{}},
              "Volumes":{"/data":{}},"Labels":{"k":"v"},"StopSignal":"SIGQUIT"},
    "rootfs":{"type":"layers","diff_ids":[")" +
                     kDigestA + R"("]}})";
  auto config = ParseImageConfig(text);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->user, "1234:5678");
  EXPECT_EQ(config->env, (std::vector<std::string>{"PATH=/bin", "A=b"}));
  EXPECT_EQ(config->entrypoint, std::vector<std::string>{"/bin/echo"});
  EXPECT_TRUE(config->cmd.empty());
  EXPECT_EQ(config->working_dir, "/srv");
  EXPECT_EQ(config->exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));
  EXPECT_EQ(config->volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(config->labels.at("k"), "v");
  EXPECT_EQ(config->stop_signal, "SIGQUIT");
  ASSERT_EQ(config->diff_ids.size(), 1u);

  EXPECT_FALSE(ParseImageConfig(R"({"config":{}})").ok());  // no rootfs
  EXPECT_FALSE(ParseImageConfig(R"({"config":{"Env":"PATH=/bin"},"rootfs":{"diff_ids":[]}})").ok());
}

TEST(ManifestTest, ChainIdsFollowTheOciDefinition) {
  auto a = *Digest::Parse(kDigestA);
  auto b = *Digest::Parse(kDigestB);
  auto chain = ChainIds({a, b});
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0], a);
  EXPECT_EQ(chain[1], ComputeDigest(kDigestA + " " + kDigestB));
  EXPECT_TRUE(ChainIds({}).empty());
}

}  // namespace
}  // namespace berth::image
