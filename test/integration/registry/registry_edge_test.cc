// The registry client against misbehaving servers (test/integration/registry/fake_http_server.h):
// what a real registry rarely does but a hostile or broken one, or blob storage behind a
// redirect, may.
#include <thread>

#include "gtest/gtest.h"
#include "image/registry/registry_client.h"
#include "test/integration/registry/fake_http_server.h"
#include "test/integration/registry/registry_test_util.h"

namespace berth::testing {
namespace {

using image::RegistryClient;
using image::RegistryClientOptions;
using image::RegistrySession;

const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":)"
    R"("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]})";

std::unique_ptr<RegistrySession> Open(const RegistryClient& client, const std::string& ref,
                                      std::optional<RegistryAuth> auth = std::nullopt,
                                      CancelToken cancel = CancelToken(CancelToken::Clock::now() +
                                                                       std::chrono::seconds(30))) {
  auto session = client.OpenSession(Ref(ref), std::move(auth), std::move(cancel));
  if (!session.ok()) throw std::runtime_error(session.error().message());
  return std::move(session).value();
}

FakeResponse Manifest(const std::string& content, const std::string& content_type,
                      const std::string& digest_header = "") {
  FakeResponse response{200, {{"Content-Type", content_type}}, content};
  if (!digest_header.empty()) response.headers.emplace_back("Docker-Content-Digest", digest_header);
  return response;
}

FakeResponse Status(int status) {
  return FakeResponse{status, {}, ""};
}

Result<std::string> FetchAll(RegistrySession& session, const image::Digest& digest, int64_t size) {
  std::string bytes;
  BERTH_TRY(session.FetchBlob(digest, size, [&](std::string_view chunk) {
    bytes.append(chunk);
    return Ok();
  }));
  return bytes;
}

TEST(RegistryEdgeTest, RedirectToBlobStorageDoesNotCarryAuthorization) {
  const std::string blob = "layer bytes from blob storage";
  FakeHttpServer storage([&](const FakeRequest&) { return FakeResponse{200, {}, blob}; });
  FakeHttpServer registry([&](const FakeRequest& request) {
    if (request.Header("authorization").empty()) {
      return FakeResponse{401, {{"WWW-Authenticate", R"(Basic realm="fake")"}}, ""};
    }
    return FakeResponse{307, {{"Location", storage.url() + "/storage/blob?sig=1"}}, ""};
  });
  RegistryClient client(RegistryConfig{});
  RegistryAuth auth;
  auth.username = "user";
  auth.password = "storage-must-not-see-this";
  auto session = Open(client, registry.host() + "/app:latest", auth);
  auto bytes = FetchAll(*session, image::ComputeDigest(blob), int64_t(blob.size()));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  EXPECT_EQ(*bytes, blob);
  auto seen = registry.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[1].Header("authorization").starts_with("Basic "));
  auto stored = storage.requests();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].target, "/storage/blob?sig=1");
  EXPECT_EQ(stored[0].Header("authorization"), "");
}

TEST(RegistryEdgeTest, ManifestThatDisagreesWithItsDigestIsRefused) {
  image::Digest other = image::ComputeDigest("something else");
  FakeHttpServer registry([&](const FakeRequest&) {
    return Manifest(kManifest, "application/vnd.oci.image.manifest.v1+json", other.String());
  });
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, registry.host() + "/app:latest");
  auto by_tag = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(by_tag.ok());
  EXPECT_EQ(by_tag.error().code(), ErrorCode::kInvalidArgument) << by_tag.error().message();
  EXPECT_NE(by_tag.error().message().find("registry says " + other.String()), std::string::npos)
      << by_tag.error().message();
  auto by_digest = session->FetchManifest(other.String(), AllManifestTypes());
  ASSERT_FALSE(by_digest.ok());
  EXPECT_EQ(by_digest.error().code(), ErrorCode::kInvalidArgument) << by_digest.error().message();
}

TEST(RegistryEdgeTest, MediaTypeComesFromTheDocumentWhenContentTypeIsGeneric) {
  FakeHttpServer registry([&](const FakeRequest&) {
    return Manifest(kManifest, "application/json; charset=utf-8",
                    image::ComputeDigest(kManifest).String());
  });
  RegistryClient client(RegistryConfig{});
  auto manifest =
      Open(client, registry.host() + "/app:latest")->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  EXPECT_EQ(manifest->media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(manifest->digest, image::ComputeDigest(kManifest));
  auto accept = registry.requests().back().Header("accept");
  EXPECT_NE(accept.find("application/vnd.oci.image.index.v1+json"), std::string::npos) << accept;
}

TEST(RegistryEdgeTest, OversizedManifestIsRefused) {
  std::string huge = "{\"pad\":\"" + std::string((4 << 20) + 1, 'x') + "\"}";
  FakeHttpServer registry([&](const FakeRequest&) { return Manifest(huge, "application/json"); });
  RegistryClient client(RegistryConfig{});
  auto manifest =
      Open(client, registry.host() + "/app:latest")->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kInvalidArgument) << manifest.error().message();
}

TEST(RegistryEdgeTest, TruncatedBlobResumesOnTheNextEndpointWithRange) {
  std::string blob(100000, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7 % 251);
  FakeHttpServer mirror([&](const FakeRequest&) {
    FakeResponse response{200, {}, blob};
    response.truncate_at = 40000;
    return response;
  });
  FakeHttpServer origin([&](const FakeRequest& request) {
    std::string range = request.Header("range");  // "bytes=N-"
    size_t start = std::stoul(range.substr(6));
    return FakeResponse{206,
                        {{"Content-Range", "bytes " + std::to_string(start) + "-" +
                                               std::to_string(blob.size() - 1) + "/" +
                                               std::to_string(blob.size())}},
                        blob.substr(start)};
  });
  RegistryConfig config;
  config.mirrors[origin.host()] = {mirror.url()};
  RegistryClient client(config);
  auto session = Open(client, origin.host() + "/app:latest");
  auto bytes = FetchAll(*session, image::ComputeDigest(blob), int64_t(blob.size()));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  EXPECT_EQ(*bytes, blob);
  ASSERT_EQ(origin.requests().size(), 1u);
  std::string range = origin.requests()[0].Header("range");
  EXPECT_TRUE(range.starts_with("bytes=")) << range;
  EXPECT_GT(std::stoul(range.substr(6)), 0u);
}

TEST(RegistryEdgeTest, ChunkedBlobLongerThanItsDescriptorIsCutOff) {
  // No Content-Length to refuse it by: the limit has to hold while the bytes arrive.
  std::string blob(100, 'b');
  char size_line[16];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", blob.size());
  FakeHttpServer registry([&](const FakeRequest&) {
    return FakeResponse{
        200, {{"Transfer-Encoding", "chunked"}}, size_line + blob + "\r\n0\r\n\r\n"};
  });
  RegistryClient client(RegistryConfig{});
  auto session = Open(client, registry.host() + "/app:latest");
  size_t received = 0;
  auto fetched = session->FetchBlob(image::ComputeDigest(blob), 60, [&](std::string_view chunk) {
    received += chunk.size();
    return Ok();
  });
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code(), ErrorCode::kInvalidArgument) << fetched.error().message();
  EXPECT_LE(received, 60u);
}

TEST(RegistryEdgeTest, StalledTransferIsUnavailable) {
  FakeHttpServer registry([&](const FakeRequest&) {
    FakeResponse response = Manifest(kManifest, "application/vnd.oci.image.manifest.v1+json");
    response.stall = std::chrono::seconds(30);
    return response;
  });
  RegistryClientOptions options;
  options.stall_timeout = std::chrono::seconds(1);
  RegistryClient client(RegistryConfig{}, options);
  auto started = std::chrono::steady_clock::now();
  auto manifest =
      Open(client, registry.host() + "/app:latest")->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kUnavailable) << manifest.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(RegistryEdgeTest, DeadlineAndCancelStopARunningTransfer) {
  FakeHttpServer registry([&](const FakeRequest&) {
    FakeResponse response = Manifest(kManifest, "application/vnd.oci.image.manifest.v1+json");
    response.stall = std::chrono::seconds(30);
    return response;
  });
  RegistryClient client(RegistryConfig{});
  auto started = std::chrono::steady_clock::now();
  auto session = Open(client, registry.host() + "/app:latest", std::nullopt,
                      CancelToken(CancelToken::Clock::now() + std::chrono::milliseconds(500)));
  auto expired = session->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code(), ErrorCode::kDeadlineExceeded) << expired.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));

  CancelToken cancel;
  auto cancellable = Open(client, registry.host() + "/app:latest", std::nullopt, cancel);
  std::thread canceller([cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.Cancel();
  });
  started = std::chrono::steady_clock::now();
  auto cancelled = cancellable->FetchManifest("latest", AllManifestTypes());
  canceller.join();
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code(), ErrorCode::kCancelled) << cancelled.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(RegistryEdgeTest, ServerErrorAtAMirrorFallsBackAndTheOriginAnswerWins) {
  FakeHttpServer mirror([&](const FakeRequest&) { return Status(503); });
  FakeHttpServer origin([&](const FakeRequest&) { return Status(404); });
  RegistryConfig config;
  config.mirrors[origin.host()] = {mirror.url()};
  RegistryClient client(config);
  auto manifest =
      Open(client, origin.host() + "/app:latest")->FetchManifest("latest", AllManifestTypes());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.error().code(), ErrorCode::kNotFound) << manifest.error().message();
  const std::string& message = manifest.error().message();
  EXPECT_NE(message.find(mirror.url() + " answered 503 Service Unavailable"), std::string::npos)
      << message;
  EXPECT_NE(message.find("not found at " + origin.url()), std::string::npos) << message;
  EXPECT_EQ(mirror.requests().size(), 1u);
}

TEST(RegistryEdgeTest, RegistryTokenIsSentAsBearerUpFront) {
  FakeHttpServer registry([&](const FakeRequest& request) {
    if (request.Header("authorization") != "Bearer fixed-token") return Status(401);
    return Manifest(kManifest, "application/vnd.oci.image.manifest.v1+json");
  });
  RegistryClient client(RegistryConfig{});
  RegistryAuth auth;
  auth.registry_token = "fixed-token";
  auto manifest = Open(client, registry.host() + "/app:latest", auth)
                      ->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  EXPECT_EQ(registry.requests().size(), 1u);
}

TEST(RegistryEdgeTest, IdentityTokenIsExchangedWithTheRefreshGrant) {
  FakeHttpServer tokens([&](const FakeRequest& request) {
    if (request.method != "POST" ||
        request.body.find("refresh_token=refresh-secret") == std::string::npos) {
      return Status(401);
    }
    return FakeResponse{200,
                        {{"Content-Type", "application/json"}},
                        R"({"access_token":"issued-token","expires_in":120})"};
  });
  FakeHttpServer registry([&](const FakeRequest& request) {
    if (request.Header("authorization") != "Bearer issued-token") {
      return FakeResponse{
          401,
          {{"WWW-Authenticate", "Bearer realm=\"" + tokens.url() +
                                    "/token\",service=\"fake\",scope=\"repository:app:pull\""}},
          ""};
    }
    return Manifest(kManifest, "application/vnd.oci.image.manifest.v1+json");
  });
  RegistryClient client(RegistryConfig{});
  RegistryAuth auth;
  auth.identity_token = "refresh-secret";
  LogCapture log;
  auto manifest = Open(client, registry.host() + "/app:latest", auth)
                      ->FetchManifest("latest", AllManifestTypes());
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  ASSERT_EQ(tokens.requests().size(), 1u);
  const std::string form = tokens.requests()[0].body;
  EXPECT_NE(form.find("grant_type=refresh_token"), std::string::npos) << form;
  EXPECT_NE(form.find("service=fake"), std::string::npos) << form;
  EXPECT_NE(form.find("scope=repository%3Aapp%3Apull"), std::string::npos) << form;
  EXPECT_NE(form.find("client_id=berth"), std::string::npos) << form;
  EXPECT_EQ(log.text().find("refresh-secret"), std::string::npos);
  EXPECT_EQ(log.text().find("issued-token"), std::string::npos);
}

}  // namespace
}  // namespace berth::testing
