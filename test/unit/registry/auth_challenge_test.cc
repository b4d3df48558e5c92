#include "image/registry/auth_challenge.h"

#include <gtest/gtest.h>

namespace berth::image::registry {
namespace {

Challenge Only(std::string_view header) {
  auto parsed = ParseChallenges(header);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message());
  EXPECT_EQ(parsed.ok() ? parsed->size() : 0u, 1u) << header;
  return parsed.ok() && !parsed->empty() ? parsed->front() : Challenge{};
}

TEST(ParseChallenges, DockerHubBearer) {
  Challenge c = Only(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.Param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c.Param("service"), "registry.docker.io");
  EXPECT_EQ(c.Param("scope"), "repository:library/busybox:pull");
  EXPECT_EQ(c.Param("error"), "");
}

TEST(ParseChallenges, CommaInsideQuotesStaysInTheValue) {
  Challenge c =
      Only(R"(Bearer realm="https://r/token",scope="repository:a/b:pull,push",service="s")");
  EXPECT_EQ(c.Param("scope"), "repository:a/b:pull,push");
  EXPECT_EQ(c.Param("service"), "s");
}

TEST(ParseChallenges, SeveralChallengesInOneHeader) {
  auto parsed =
      ParseChallenges(R"(Basic realm="basic, realm", Bearer realm="https://t",service="x")");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].scheme, "basic");
  EXPECT_EQ((*parsed)[0].Param("realm"), "basic, realm");
  EXPECT_EQ((*parsed)[1].scheme, "bearer");
  EXPECT_EQ((*parsed)[1].Param("service"), "x");
}

TEST(ParseChallenges, SchemeAndNamesAreCaseInsensitive) {
  Challenge c = Only(R"(BEARER Realm="r", SERVICE="s")");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.Param("realm"), "r");
  EXPECT_EQ(c.Param("service"), "s");
}

TEST(ParseChallenges, EscapesSpacesAndBareValues) {
  Challenge c = Only(R"(Basic realm = "a \"quoted\" \\ realm" , charset=UTF-8)");
  EXPECT_EQ(c.Param("realm"), R"(a "quoted" \ realm)");
  EXPECT_EQ(c.Param("charset"), "UTF-8");
  // Seen in the wild: an unquoted URL.
  Challenge bare = Only("Bearer realm=https://auth.example/token,service=registry");
  EXPECT_EQ(bare.Param("realm"), "https://auth.example/token");
  EXPECT_EQ(bare.Param("service"), "registry");
}

TEST(ParseChallenges, SchemesWithoutParametersAndToken68) {
  auto parsed = ParseChallenges("Negotiate, NTLM abc123==, Basic realm=\"x\"");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].scheme, "negotiate");
  EXPECT_EQ((*parsed)[1].scheme, "ntlm");
  EXPECT_EQ((*parsed)[2].scheme, "basic");
  EXPECT_EQ((*parsed)[2].Param("realm"), "x");
}

TEST(ParseChallenges, EmptyAndMalformed) {
  auto empty = ParseChallenges("  ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto unterminated = ParseChallenges(R"(Bearer realm="https://x)");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(ParseChallenges("\"quoted-scheme\"").ok());
}

TEST(ParseTokenResponse, TokenAccessTokenAndExpiry) {
  auto both = ParseTokenResponse(R"({"token":"t1","access_token":"t2","expires_in":300})");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->token, "t1");
  EXPECT_EQ(both->expires_in_seconds, 300);
  auto oauth = ParseTokenResponse(R"({"access_token":"t2","issued_at":"2024-01-01T00:00:00Z"})");
  ASSERT_TRUE(oauth.ok());
  EXPECT_EQ(oauth->token, "t2");
  EXPECT_EQ(oauth->expires_in_seconds, kDefaultTokenLifetimeSeconds);
  auto short_lived = ParseTokenResponse(R"({"token":"t","expires_in":5})");
  ASSERT_TRUE(short_lived.ok());
  EXPECT_EQ(short_lived->expires_in_seconds, kDefaultTokenLifetimeSeconds);
  auto empty_token = ParseTokenResponse(R"({"token":"","access_token":"t3"})");
  ASSERT_TRUE(empty_token.ok());
  EXPECT_EQ(empty_token->token, "t3");
}

TEST(ParseTokenResponse, RefusesWhatCannotBeAToken) {
  EXPECT_FALSE(ParseTokenResponse("not json").ok());
  EXPECT_FALSE(ParseTokenResponse("[]").ok());
  EXPECT_FALSE(ParseTokenResponse(R"({"expires_in":60})").ok());
  EXPECT_FALSE(ParseTokenResponse(R"({"token":42})").ok());
  // A token goes into a header verbatim: no header injection.
  EXPECT_FALSE(ParseTokenResponse(R"({"token":"abc\r\nX-Evil: 1"})").ok());
  EXPECT_FALSE(ParseTokenResponse(R"({"token":"a b"})").ok());
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, plain);
  }
  EXPECT_EQ(*Base64Decode("Zm9vYg"), "foob");  // padding optional
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Z").ok());
  EXPECT_EQ(Base64Encode(std::string("\xff\x00\x10", 3)), "/wAQ");
}

TEST(UrlEncode, KeepsOnlyUnreserved) {
  EXPECT_EQ(UrlEncode("repository:library/busybox:pull"), "repository%3Alibrary%2Fbusybox%3Apull");
  EXPECT_EQ(UrlEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(UrlEncode("p@ss w&rd="), "p%40ss%20w%26rd%3D");
}

TEST(TokenRequests, QueryAndForm) {
  EXPECT_EQ(TokenRequestUrl("https://auth.docker.io/token", "registry.docker.io",
                            {"repository:library/busybox:pull"}),
            "https://auth.docker.io/token?service=registry.docker.io"
            "&scope=repository%3Alibrary%2Fbusybox%3Apull");
  EXPECT_EQ(TokenRequestUrl("https://r/token?x=1", "s", {"a", "b"}),
            "https://r/token?x=1&service=s&scope=a&scope=b");
  EXPECT_EQ(RefreshTokenForm("re&fresh", "svc", {"repository:a:pull"}, "berth"),
            "grant_type=refresh_token&refresh_token=re%26fresh&service=svc"
            "&scope=repository%3Aa%3Apull&client_id=berth");
}

TEST(Credentials, AuthFieldIsDecoded) {
  RegistryAuth auth;
  auth.auth = Base64Encode("user:pa:ss");
  auto credentials = CredentialsFromAuth(auth);
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->username, "user");
  EXPECT_EQ(credentials->password, "pa:ss");  // only the first colon separates
  EXPECT_EQ(BasicAuthorization(*credentials), "Basic " + Base64Encode("user:pa:ss"));

  auth.username = "explicit";
  auth.password = "given";
  credentials = CredentialsFromAuth(auth);
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->username, "explicit");  // explicit fields win over `auth`
}

TEST(Credentials, MalformedAuthIsRefusedWithoutEchoingIt) {
  RegistryAuth auth;
  auth.auth = "c2VjcmV0LXdpdGhvdXQtY29sb24=";  // "secret-without-colon"
  auto credentials = CredentialsFromAuth(auth);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(credentials.error().message().find("c2VjcmV0"), std::string::npos);
  auth.auth = "!!!";
  EXPECT_FALSE(CredentialsFromAuth(auth).ok());
  RegistryAuth token;
  token.registry_token = "abc\r\nX: y";
  EXPECT_FALSE(CredentialsFromAuth(token).ok());
}

TEST(Credentials, CacheIdentityHidesTheSecret) {
  EXPECT_EQ(Credentials{}.CacheIdentity(), "anonymous");
  Credentials a{"user", "hunter2", "", ""};
  Credentials b{"user", "other", "", ""};
  Credentials c{"user:hunter2", "", "", ""};
  EXPECT_NE(a.CacheIdentity(), b.CacheIdentity());
  EXPECT_NE(a.CacheIdentity(), c.CacheIdentity());
  EXPECT_EQ(a.CacheIdentity(), Credentials(a).CacheIdentity());
  EXPECT_EQ(a.CacheIdentity().find("hunter2"), std::string::npos);
  EXPECT_TRUE(a.CacheIdentity().starts_with("sha256:"));
}

}  // namespace
}  // namespace berth::image::registry
