// RegistrySession's side of authentication: answering 401 challenges (Basic, and Bearer through
// the Docker token protocol) and keeping bearer tokens in the client's shared cache.
//
// The rule for secrets: they go into request headers and POST bodies only, never into an error,
// a log line or a cache key (keys hold Credentials::CacheIdentity(), a hash).
#include <spdlog/spdlog.h>

#include "image/registry/registry_client.h"

namespace berth::image {
namespace {

using registry::Challenge;
using registry::HttpRequest;
using registry::HttpResponse;

constexpr int64_t kMaxTokenResponseBytes = 1 << 20;
constexpr char kClientId[] = "berth";

// "repository:<path>:pull", plus the scope the registry named when it differs (some registries
// ask for more than the client would).
std::vector<std::string> TokenScopes(const Challenge& challenge, std::string_view path) {
  std::vector<std::string> scopes{registry::PullScope(path)};
  std::string asked = challenge.Param("scope");
  if (!asked.empty() && asked != scopes.front()) scopes.push_back(asked);
  return scopes;
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) out += (out.empty() ? "" : " ") + scope;
  return out;
}

// The host of an http(s) URL, or "" when the URL is not one.
std::string UrlHost(std::string_view url, std::string_view* scheme) {
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return "";
  *scheme = url.substr(0, colon);
  std::string_view rest = url.substr(colon + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.empty() || rest.find('@') != std::string_view::npos) return "";
  return std::string(rest);
}

}  // namespace

Error RegistrySession::AuthenticationFailed(const EndpointState& state,
                                            std::string_view why) const {
  const char* verb =
      state.credentials.empty() ? "authentication required" : "authentication failed";
  return Error(ErrorCode::kUnauthenticated, reference_.FullName() + ": " + verb + " at " +
                                                state.endpoint.Url() + ": " + std::string(why));
}

Result<HttpResponse> RegistrySession::Send(EndpointState& state, HttpRequest request,
                                           int64_t max_body, const registry::BodySink& sink) {
  for (int attempt = 0;; ++attempt) {
    BERTH_ASSIGN_OR_RETURN(std::string authorization, AuthorizationFor(state));
    HttpRequest sent = request;
    if (!authorization.empty()) sent.headers.push_back("Authorization: " + authorization);
    BERTH_ASSIGN_OR_RETURN(HttpResponse response, http_->Perform(sent, max_body, sink, cancel_));
    if (response.status != 401) return response;
    bool used_cached_token =
        authorization.starts_with("Bearer ") && state.credentials.registry_token.empty();
    if (used_cached_token) tokens_->Invalidate(TokenKeyFor(state), authorization.substr(7));
    // One more try only when it can change something: a first challenge, or a bearer token that
    // may have expired early. Refused Basic credentials or a fixed registry token stay refused.
    bool retry = attempt == 0 && state.credentials.registry_token.empty() &&
                 (authorization.empty() || used_cached_token);
    if (!retry) return AuthenticationFailed(state, registry::DescribeStatus(response));
    BERTH_TRY(LearnChallenge(state, response));
  }
}

Result<std::string> RegistrySession::AuthorizationFor(EndpointState& state) {
  const auto& credentials = state.credentials;
  if (!credentials.registry_token.empty()) return "Bearer " + credentials.registry_token;
  if (!state.challenge.has_value()) return std::string();
  if (state.challenge->scheme == "basic") return registry::BasicAuthorization(credentials);
  BERTH_ASSIGN_OR_RETURN(std::string token, BearerToken(state));
  return "Bearer " + token;
}

Result<void> RegistrySession::LearnChallenge(EndpointState& state, const HttpResponse& response) {
  std::optional<Challenge> bearer;
  std::optional<Challenge> basic;
  for (const auto& value : response.HeaderValues("www-authenticate")) {
    auto parsed = registry::ParseChallenges(value);
    if (!parsed.ok()) continue;
    for (auto& challenge : *parsed) {
      if (challenge.scheme == "bearer" && !bearer) bearer = std::move(challenge);
      if (challenge.scheme == "basic" && !basic) basic = std::move(challenge);
    }
  }
  std::string status = registry::DescribeStatus(response);
  if (bearer.has_value()) {
    std::string realm = bearer->Param("realm");
    std::string_view scheme;
    std::string realm_host = UrlHost(realm, &scheme);
    // Credentials go to the realm: over plain http only where the registry itself is trusted
    // that way (an http or insecure endpoint) or the token server is loopback / insecure.
    bool realm_ok =
        scheme == "https" ||
        (scheme == "http" &&
         (state.endpoint.plain_http() || state.endpoint.skip_verify ||
          registry::IsLoopbackHost(realm_host) || registry::IsInsecureHost(realm_host, insecure_)));
    if (realm_host.empty() || !realm_ok) {
      return AuthenticationFailed(state, status + " with an unusable token realm");
    }
    state.challenge = std::move(bearer);
    return Ok();
  }
  if (basic.has_value()) {
    if (state.credentials.username.empty() && state.credentials.password.empty()) {
      return AuthenticationFailed(state, status + " (Basic authentication, no credentials given)");
    }
    state.challenge = std::move(basic);
    return Ok();
  }
  return AuthenticationFailed(state, status + " without a Basic or Bearer challenge");
}

registry::TokenKey RegistrySession::TokenKeyFor(const EndpointState& state) const {
  const Challenge& challenge = *state.challenge;
  return registry::TokenKey{challenge.Param("realm"), challenge.Param("service"),
                            JoinScopes(TokenScopes(challenge, reference_.path)),
                            state.credentials.CacheIdentity()};
}

Result<std::string> RegistrySession::BearerToken(EndpointState& state) {
  registry::TokenKey key = TokenKeyFor(state);
  if (auto cached = tokens_->Get(key)) return *cached;
  BERTH_ASSIGN_OR_RETURN(
      registry::TokenResponse response,
      RequestToken(state, key.realm, key.service, TokenScopes(*state.challenge, reference_.path)));
  tokens_->Put(
      key, response.token,
      registry::TokenCache::Clock::now() + std::chrono::seconds(response.expires_in_seconds));
  return std::move(response.token);
}

Result<registry::TokenResponse> RegistrySession::RequestToken(
    EndpointState& state, const std::string& realm, const std::string& service,
    const std::vector<std::string>& scopes) {
  const auto& credentials = state.credentials;
  std::string_view scheme;
  std::string realm_host = UrlHost(realm, &scheme);
  HttpRequest request;
  request.skip_verify = state.endpoint.skip_verify || registry::IsLoopbackHost(realm_host) ||
                        registry::IsInsecureHost(realm_host, insecure_);
  if (!credentials.identity_token.empty()) {
    // docker's exchange of an identity (refresh) token: the OAuth2 form POST.
    request.method = "POST";
    request.url = realm;
    request.body =
        registry::RefreshTokenForm(credentials.identity_token, service, scopes, kClientId);
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  } else {
    request.url = registry::TokenRequestUrl(realm, service, scopes);
    if (!credentials.username.empty() || !credentials.password.empty()) {
      request.headers.push_back("Authorization: " + registry::BasicAuthorization(credentials));
    }
  }
  spdlog::debug("registry: requesting a token from {} for {}", realm, JoinScopes(scopes));
  std::string body;
  auto collect = [&body](const HttpResponse&, std::string_view chunk) -> Result<void> {
    body.append(chunk);
    return Ok();
  };
  BERTH_ASSIGN_OR_RETURN(HttpResponse response,
                         http_->Perform(request, kMaxTokenResponseBytes, collect, cancel_));
  std::string answer = "token server " + realm + " answered " + registry::DescribeStatus(response);
  if (response.status == 401 || response.status == 403) return AuthenticationFailed(state, answer);
  if (!response.success()) return Unavailable(answer);
  auto parsed = registry::ParseTokenResponse(body);
  if (!parsed.ok()) return std::move(parsed).error().Wrap("token server " + realm);
  return parsed;
}

}  // namespace berth::image
