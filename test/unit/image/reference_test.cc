#include "image/reference.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::image {
namespace {

const std::string kHex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kHex128 = kHex64 + kHex64;

struct GoodCase {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;  // "" when none
  std::string normalized;
};

class GoodReferenceTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GoodReferenceTest, ParsesAndNormalizes) {
  const GoodCase& want = GetParam();
  auto parsed = ParseReference(want.input);
  ASSERT_TRUE(parsed.ok()) << want.input << ": " << parsed.error().ToString();
  EXPECT_EQ(parsed->domain, want.domain);
  EXPECT_EQ(parsed->path, want.path);
  EXPECT_EQ(parsed->tag, want.tag);
  EXPECT_EQ(parsed->digest ? parsed->digest->String() : "", want.digest);
  EXPECT_EQ(parsed->String(), want.normalized);
  EXPECT_EQ(parsed->FullName(), want.domain + "/" + want.path);
  // Normalization is idempotent: the normalized form parses to the same reference.
  auto again = ParseReference(parsed->String());
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, *parsed);
}

INSTANTIATE_TEST_SUITE_P(
    Table, GoodReferenceTest,
    ::testing::Values(
        GoodCase{"busybox", "docker.io", "library/busybox", "latest", "",
                 "docker.io/library/busybox:latest"},
        GoodCase{"busybox:1.36", "docker.io", "library/busybox", "1.36", "",
                 "docker.io/library/busybox:1.36"},
        GoodCase{"user/app", "docker.io", "user/app", "latest", "", "docker.io/user/app:latest"},
        GoodCase{"docker.io/busybox", "docker.io", "library/busybox", "latest", "",
                 "docker.io/library/busybox:latest"},
        GoodCase{"docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", "",
                 "docker.io/library/busybox:latest"},
        GoodCase{"index.docker.io/busybox", "docker.io", "library/busybox", "latest", "",
                 "docker.io/library/busybox:latest"},
        GoodCase{"index.docker.io/user/app:v1", "docker.io", "user/app", "v1", "",
                 "docker.io/user/app:v1"},
        GoodCase{"registry.k8s.io/pause:3.10", "registry.k8s.io", "pause", "3.10", "",
                 "registry.k8s.io/pause:3.10"},
        GoodCase{"quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", "",
                 "quay.io/coreos/etcd:v3.5.0"},
        GoodCase{"127.0.0.1:5000/ns/name:tag", "127.0.0.1:5000", "ns/name", "tag", "",
                 "127.0.0.1:5000/ns/name:tag"},
        GoodCase{"registry.local:5000/a/b/c", "registry.local:5000", "a/b/c", "latest", "",
                 "registry.local:5000/a/b/c:latest"},
        GoodCase{"localhost/x", "localhost", "x", "latest", "", "localhost/x:latest"},
        GoodCase{"localhost:5000/x:dev", "localhost:5000", "x", "dev", "", "localhost:5000/x:dev"},
        GoodCase{"myhost:5000/app", "myhost:5000", "app", "latest", "", "myhost:5000/app:latest"},
        GoodCase{"[::1]:5000/app:1", "[::1]:5000", "app", "1", "", "[::1]:5000/app:1"},
        GoodCase{"Registry.Example.COM/app", "Registry.Example.COM", "app", "latest", "",
                 "Registry.Example.COM/app:latest"},
        GoodCase{"busybox@sha256:" + kHex64, "docker.io", "library/busybox", "", "sha256:" + kHex64,
                 "docker.io/library/busybox@sha256:" + kHex64},
        GoodCase{"busybox:1.36@sha256:" + kHex64, "docker.io", "library/busybox", "1.36",
                 "sha256:" + kHex64, "docker.io/library/busybox:1.36@sha256:" + kHex64},
        GoodCase{"localhost:5000/app@sha512:" + kHex128, "localhost:5000", "app", "",
                 "sha512:" + kHex128, "localhost:5000/app@sha512:" + kHex128},
        GoodCase{"a_b/c__d/e-f/g.h/i---j", "docker.io", "a_b/c__d/e-f/g.h/i---j", "latest", "",
                 "docker.io/a_b/c__d/e-f/g.h/i---j:latest"},
        GoodCase{"app:_tag", "docker.io", "library/app", "_tag", "", "docker.io/library/app:_tag"},
        GoodCase{"app:V1.0-rc_2", "docker.io", "library/app", "V1.0-rc_2", "",
                 "docker.io/library/app:V1.0-rc_2"},
        GoodCase{"app:" + std::string(128, 'x'), "docker.io", "library/app", std::string(128, 'x'),
                 "", "docker.io/library/app:" + std::string(128, 'x')},
        GoodCase{"localhost:5000", "docker.io", "library/localhost", "5000", "",
                 "docker.io/library/localhost:5000"},
        GoodCase{"0abc/x", "docker.io", "0abc/x", "latest", "", "docker.io/0abc/x:latest"}));

struct BadCase {
  std::string input;
  std::string reason;  // a substring the error must contain
};

class BadReferenceTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadReferenceTest, IsInvalidArgumentWithReason) {
  const BadCase& want = GetParam();
  auto parsed = ParseReference(want.input);
  ASSERT_FALSE(parsed.ok()) << want.input << " parsed as " << parsed->String();
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.error().message().find(want.reason), std::string::npos)
      << "input " << want.input << ": " << parsed.error().message();
  EXPECT_NE(parsed.error().message().find("invalid image reference"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadReferenceTest,
    ::testing::Values(
        BadCase{"", "reference is empty"}, BadCase{"Busybox", "must be lowercase"},
        BadCase{"user/App", "must be lowercase"}, BadCase{"busybox:", "tag is empty"},
        BadCase{"busybox:-tag", "tag must start"}, BadCase{"busybox:.tag", "tag must start"},
        BadCase{"busybox:ta/g", "registry port \"ta\" is not a number"},
        BadCase{"busybox:t@g", "missing \"algorithm:\" prefix"},
        BadCase{"busybox:t!g", "invalid character '!' in tag"},
        BadCase{"app:" + std::string(129, 'x'), "tag is longer than 128"},
        BadCase{":tag", "repository name is empty"},
        BadCase{"@sha256:" + kHex64, "repository name is empty"},
        BadCase{"a//b", "empty component"}, BadCase{"a/b/", "empty component"},
        BadCase{"/a", "empty component"}, BadCase{"-app", "must start and end"},
        BadCase{"app-", "must start and end"}, BadCase{"a..b", "invalid separator \"..\""},
        BadCase{"a___b", "invalid separator \"___\""}, BadCase{"a._b", "invalid separator \"._\""},
        BadCase{"a b", "invalid character ' '"},
        BadCase{"app@sha256:abc", "needs 64 hex characters, got 3"},
        BadCase{"app@sha256:" + kHex64 + "0", "needs 64 hex characters, got 65"},
        BadCase{"app@sha512:" + kHex64, "needs 128 hex characters"},
        BadCase{"app@md5:" + kHex64, "unsupported algorithm \"md5\""},
        BadCase{"app@sha256:" + std::string(64, 'A'), "lowercase hex"},
        BadCase{"app@" + kHex64, "missing \"algorithm:\" prefix"}, BadCase{kHex64, "image ID"},
        BadCase{"reg.io:port/app", "registry port \"port\" is not a number"},
        BadCase{"reg.io:/app", "registry port \"\" is not a number"},
        BadCase{"-reg.io/app", "must not start or end with '-'"},
        BadCase{"reg..io/app", "empty label"},
        BadCase{"reg_x.io/app", "invalid character '_' in registry host"},
        BadCase{"[::1/app", "unterminated IPv6"}, BadCase{"[zz]:5000/app", "invalid IPv6 address"},
        BadCase{"docker.io/" + std::string(240, 'a'), "longer than 255"},
        BadCase{std::string(250, 'a'), "longer than 255"},
        BadCase{"app@sha256:" + kHex64 + "@sha256:" + kHex64, "needs 64 hex characters"}));

TEST(ReferenceTest, NameAtTheLengthLimitIsAccepted) {
  // "docker.io/library/" is 18 characters: 237 more make exactly 255.
  auto parsed = ParseReference(std::string(237, 'a'));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->FullName().size(), 255u);
  EXPECT_FALSE(ParseReference(std::string(238, 'a')).ok());
}

TEST(DigestTest, ParsesSha256AndSha512) {
  auto sha256 = Digest::Parse("sha256:" + kHex64);
  ASSERT_TRUE(sha256.ok());
  EXPECT_EQ(sha256->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_EQ(sha256->algorithm_name(), "sha256");
  EXPECT_EQ(sha256->encoded(), kHex64);
  EXPECT_EQ(sha256->String(), "sha256:" + kHex64);
  auto sha512 = Digest::Parse("sha512:" + kHex128);
  ASSERT_TRUE(sha512.ok());
  EXPECT_EQ(sha512->algorithm(), DigestAlgorithm::kSha512);
  EXPECT_FALSE(Digest::Parse("sha256:").ok());
  EXPECT_FALSE(Digest::Parse("SHA256:" + kHex64).ok());
  EXPECT_FALSE(Digest::Parse("sha384:" + kHex64 + kHex64.substr(0, 32)).ok());
  EXPECT_TRUE(Digest().empty());
  EXPECT_EQ(Digest().String(), "");
}

TEST(DigestTest, HasherMatchesKnownVectors) {
  EXPECT_EQ(ComputeDigest("").String(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ComputeDigest("abc").String(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ComputeDigest("abc", DigestAlgorithm::kSha512).encoded().substr(0, 16),
            "ddaf35a193617aba");
  DigestHasher hasher;
  hasher.Update("a", 1);
  hasher.Update("bc", 2);
  const Digest streamed = hasher.Finish();
  EXPECT_EQ(streamed, ComputeDigest("abc"));
  auto round_trip = Digest::Parse(streamed.String());
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(*round_trip, streamed);
}

}  // namespace
}  // namespace berth::image
