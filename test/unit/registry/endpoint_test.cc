#include "image/registry/endpoint.h"

#include <gtest/gtest.h>

#include "image/registry/http_transport.h"
#include "image/registry/token_cache.h"

namespace berth::image::registry {
namespace {

TEST(ParseEndpoint, SchemesBareHostsAndPaths) {
  auto bare = ParseEndpoint("mirror.example:5000");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->scheme, "https");
  EXPECT_EQ(bare->host, "mirror.example:5000");
  EXPECT_EQ(bare->Url(), "https://mirror.example:5000");

  auto http = ParseEndpoint("http://127.0.0.1:5000/");
  ASSERT_TRUE(http.ok());
  EXPECT_TRUE(http->plain_http());
  EXPECT_EQ(http->Url(), "http://127.0.0.1:5000");

  auto v2 = ParseEndpoint("https://[::1]:5000/v2/");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->host, "[::1]:5000");
}

TEST(ParseEndpoint, RefusesWhatIsNotAnEndpoint) {
  for (const char* text : {"", "ftp://host", "https://", "https://user:pw@host", "https://h/path",
                           "https://h?x=1", "host with space"}) {
    auto parsed = ParseEndpoint(text);
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(Hosts, PortsInsecureAndLoopback) {
  EXPECT_EQ(HostWithoutPort("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(HostWithoutPort("[::1]:5000"), "[::1]");
  EXPECT_EQ(HostWithoutPort("registry.local"), "registry.local");

  std::vector<std::string> insecure{"registry.local", "10.0.0.1:5000"};
  EXPECT_TRUE(IsInsecureHost("registry.local", insecure));
  EXPECT_TRUE(IsInsecureHost("registry.local:8443", insecure));  // no port: any port
  EXPECT_TRUE(IsInsecureHost("10.0.0.1:5000", insecure));
  EXPECT_FALSE(IsInsecureHost("10.0.0.1:5001", insecure));  // port given: only that one
  EXPECT_FALSE(IsInsecureHost("10.0.0.1", insecure));
  EXPECT_FALSE(IsInsecureHost("registry.local.evil", insecure));

  EXPECT_TRUE(IsLoopbackHost("localhost:5000"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("[::1]:5000"));
  EXPECT_FALSE(IsLoopbackHost("128.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example.com"));
}

TEST(ResolveEndpoints, DockerHubWithMirrors) {
  RegistryConfig config;
  config.mirrors["docker.io"] = {"http://127.0.0.1:5001", "mirror.example"};
  auto endpoints = ResolveEndpoints("docker.io", config);
  ASSERT_TRUE(endpoints.ok());
  ASSERT_EQ(endpoints->size(), 3u);
  EXPECT_EQ((*endpoints)[0], (Endpoint{"http", "127.0.0.1:5001", true, false}));
  EXPECT_EQ((*endpoints)[1], (Endpoint{"https", "mirror.example", true, false}));
  EXPECT_EQ((*endpoints)[2], (Endpoint{"https", "registry-1.docker.io", false, false}));
}

TEST(ResolveEndpoints, InsecureAndLoopbackHostsFallBackToHttp) {
  RegistryConfig config;
  config.insecure = {"registry.local:5000", "mirror.example"};
  config.mirrors["registry.local:5000"] = {"mirror.example"};
  auto endpoints = ResolveEndpoints("registry.local:5000", config);
  ASSERT_TRUE(endpoints.ok());
  ASSERT_EQ(endpoints->size(), 3u);
  EXPECT_EQ((*endpoints)[0], (Endpoint{"https", "mirror.example", true, true}));
  EXPECT_EQ((*endpoints)[1], (Endpoint{"https", "registry.local:5000", false, true}));
  EXPECT_EQ((*endpoints)[2], (Endpoint{"http", "registry.local:5000", false, false}));

  auto loopback = ResolveEndpoints("127.0.0.1:5000", RegistryConfig{});
  ASSERT_TRUE(loopback.ok());
  ASSERT_EQ(loopback->size(), 2u);
  EXPECT_EQ((*loopback)[1].Url(), "http://127.0.0.1:5000");

  auto secure = ResolveEndpoints("quay.io", config);
  ASSERT_TRUE(secure.ok());
  ASSERT_EQ(secure->size(), 1u);
  EXPECT_EQ((*secure)[0], (Endpoint{"https", "quay.io", false, false}));
}

TEST(ResolveEndpoints, BadMirrorIsAnError) {
  RegistryConfig config;
  config.mirrors["docker.io"] = {"gopher://mirror"};
  auto endpoints = ResolveEndpoints("docker.io", config);
  ASSERT_FALSE(endpoints.ok());
  EXPECT_NE(endpoints.error().message().find("gopher://mirror"), std::string::npos);
}

TEST(Urls, DistributionApi) {
  Endpoint endpoint{"https", "registry-1.docker.io", false, false};
  EXPECT_EQ(ManifestUrl(endpoint, "library/busybox", "latest"),
            "https://registry-1.docker.io/v2/library/busybox/manifests/latest");
  EXPECT_EQ(BlobUrl(endpoint, "library/busybox", "sha256:abc"),
            "https://registry-1.docker.io/v2/library/busybox/blobs/sha256:abc");
  EXPECT_EQ(PullScope("library/busybox"), "repository:library/busybox:pull");
  auto keys = AuthLookupKeys("docker.io");
  ASSERT_GE(keys.size(), 2u);
  EXPECT_EQ(keys[0], "docker.io");
  EXPECT_EQ(AuthLookupKeys("quay.io"), std::vector<std::string>{"quay.io"});
}

TEST(TokenCache, ExpiryInvalidationAndIdentity) {
  TokenCache cache;
  auto now = TokenCache::Clock::now();
  TokenKey alice{"https://auth/token", "svc", "repository:a:pull", "sha256:alice"};
  TokenKey bob = alice;
  bob.identity = "sha256:bob";
  cache.Put(alice, "t-alice", now + std::chrono::seconds(60));
  EXPECT_EQ(cache.Get(alice, now), "t-alice");
  EXPECT_EQ(cache.Get(bob, now), std::nullopt);  // never another identity's token
  EXPECT_EQ(cache.Get(alice, now + std::chrono::seconds(61)), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);  // the expired entry went on lookup

  cache.Put(alice, "t1", now + std::chrono::hours(1));
  cache.Invalidate(alice, "t0");  // someone else's stale token: keeps the newer one
  EXPECT_EQ(cache.Get(alice, now), "t1");
  cache.Invalidate(alice, "t1");
  EXPECT_EQ(cache.Get(alice, now), std::nullopt);
}

TEST(TokenCache, Bounded) {
  TokenCache cache;
  auto later = TokenCache::Clock::now() + std::chrono::hours(1);
  for (size_t i = 0; i < TokenCache::kMaxEntries + 10; ++i) {
    cache.Put(TokenKey{"r", "s", "scope" + std::to_string(i), "anonymous"}, "t", later);
  }
  EXPECT_EQ(cache.size(), TokenCache::kMaxEntries);
}

TEST(DescribeStatus, RegistryErrorJsonIsSummarizedAndSanitized) {
  HttpResponse response;
  response.status = 404;
  response.status_text = "404 Not Found";
  response.error_body =
      R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})";
  EXPECT_EQ(DescribeStatus(response), "404 Not Found (MANIFEST_UNKNOWN: manifest unknown)");
  response.error_body = R"({"errors":[{"code":7,"message":"evil\u001b[31m"}]})";
  EXPECT_EQ(DescribeStatus(response), "404 Not Found (: evil?[31m)");
  response.error_body = "<html>not json</html>";
  EXPECT_EQ(DescribeStatus(response), "404 Not Found");
  response.status_text.clear();
  EXPECT_EQ(DescribeStatus(response), "404");
}

}  // namespace
}  // namespace berth::image::registry
