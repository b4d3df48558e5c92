// Pure pieces of registry authentication, kept apart from the HTTP code so that they can be unit
// tested: WWW-Authenticate parsing (RFC 7235), token server answers (the Docker registry token
// protocol), base64 and URL encoding, and credentials as berth holds them.
//
// Nothing here logs, and no error message built here ever contains a credential or a token.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace berth::image::registry {

// One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"`.
struct Challenge {
  std::string scheme;                         // lowercased: "basic", "bearer", …
  std::map<std::string, std::string> params;  // names lowercased, values unquoted

  // The parameter's value, or "" when absent.
  std::string Param(std::string_view name) const;
};

// Parses one WWW-Authenticate header value, which may hold several challenges separated by
// commas (`Basic realm="a", Bearer realm="b,c",scope="x"`). Quoted values may contain commas and
// backslash escapes. token68 challenges (`Negotiate abc==`) are not used by registries and are
// read as a scheme without parameters. An unterminated quote or a stray byte is InvalidArgument.
Result<std::vector<Challenge>> ParseChallenges(std::string_view header_value);

// A token server's answer to GET/POST <realm>.
struct TokenResponse {
  std::string token;
  int64_t expires_in_seconds = 0;
};

// Tokens without `expires_in` live this long; shorter lifetimes are raised to it (as docker does,
// so that a token is not fetched for every request).
inline constexpr int64_t kDefaultTokenLifetimeSeconds = 60;

// Parses `{"token": "…"}` or `{"access_token": "…"}` (the OAuth2 form; `token` wins when both are
// given) with an optional `expires_in`. The token must be printable ASCII without spaces, because
// it goes into an HTTP header verbatim.
Result<TokenResponse> ParseTokenResponse(std::string_view body);

std::string Base64Encode(std::string_view data);
// Standard alphabet; padding optional; whitespace or other bytes are InvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

// RFC 3986 percent-encoding of everything but unreserved characters, for query strings and
// application/x-www-form-urlencoded bodies.
std::string UrlEncode(std::string_view text);

// Credentials in the form the client uses them: the CRI's AuthConfig / config's RegistryAuth with
// `auth` decoded into username and password.
struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token
  std::string registry_token;  // sent as a bearer token without any exchange

  bool empty() const;
  // A stable name for the token cache key that reveals nothing: a sha256 over the secrets, or
  // "anonymous".
  std::string CacheIdentity() const;
};

// `auth` (base64 "user:password", as in a docker config.json) is used when username and password
// are not given. A malformed `auth` is InvalidArgument, without echoing it.
Result<Credentials> CredentialsFromAuth(const RegistryAuth& auth);

// The `Authorization` value for Basic authentication.
std::string BasicAuthorization(const Credentials& credentials);

// The token request of the Docker token protocol: `<realm>?service=…&scope=…` (the realm may
// already carry a query). Scopes are repeated parameters.
std::string TokenRequestUrl(std::string_view realm, std::string_view service,
                            const std::vector<std::string>& scopes);

// The body of the OAuth2 refresh-token grant docker sends when it holds an identity token:
// grant_type=refresh_token&refresh_token=…&service=…&scope=…&client_id=…
std::string RefreshTokenForm(std::string_view refresh_token, std::string_view service,
                             const std::vector<std::string>& scopes, std::string_view client_id);

}  // namespace berth::image::registry
