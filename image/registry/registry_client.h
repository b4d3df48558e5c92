// The OCI distribution (v2) client that berth's image puller uses.
//
//   RegistryClient client(config.registries);                       // one per daemon
//   BERTH_ASSIGN_OR_RETURN(auto session, client.OpenSession(ref, auth, cancel));
//   BERTH_ASSIGN_OR_RETURN(auto manifest, session->FetchManifest("latest", accepted_types));
//   BERTH_TRY(session->FetchBlob(layer.digest, layer.size, write_to_content_store));
//
// Endpoints: a pull from host H tries H's configured mirrors in order, then H itself (docker.io
// is served by registry-1.docker.io). A mirror that fails in any way but cancellation
// (unreachable, 401/403/404, 5xx, content not matching its digest) is skipped for the next one.
// H is reached over https;
// if H is listed as insecure (or is loopback) https is tried without verification, then plain
// http. A mirror written as http://… is used as written.
//
// Credentials: the ones given to OpenSession (the CRI request's AuthConfig), else
// config.auths[H]. They are sent only to H; a mirror gets config.auths[mirror host] or nothing,
// so a Docker Hub password never reaches a mirror. Anonymous, Basic and Bearer (the Docker token
// protocol, with a daemon-wide token cache) are handled on the 401 challenge; a registry_token is
// sent as a bearer token up front. No credential or token ever appears in an error or log line.
//
// Errors: NotFound (404), Unauthenticated (credentials missing or refused), PermissionDenied
// (403), Unavailable (unreachable, TLS failure, 5xx/429, stalled or truncated transfer),
// InvalidArgument (content that does not match its digest, or oversized), DeadlineExceeded /
// Cancelled (the session's CancelToken). When several endpoints failed, the message lists each
// one's failure and the code is the origin host's (its most definite answer when it answered
// over one scheme and was unreachable over the other).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/cancel.h"
#include "base/result.h"
#include "config/config.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/registry/auth_challenge.h"
#include "image/registry/endpoint.h"
#include "image/registry/http_transport.h"
#include "image/registry/token_cache.h"

namespace berth::image {

struct FetchedManifest {
  // From Content-Type (parameters dropped), else the JSON's mediaType, else guessed from its shape
  // ("manifests" -> OCI index, "config" -> OCI manifest). Not checked against the accepted
  // types: the caller parses the manifest and decides.
  std::string media_type;
  std::string content;
  // Verified: equal to the requested digest, or (by tag) the sha256 of `content`, which must
  // agree with the registry's Docker-Content-Digest header when it sends one.
  Digest digest;
  std::string endpoint;  // the endpoint that served it: "http://127.0.0.1:5000"
};

// Receives a blob chunk by chunk; an error stops the transfer and is returned by FetchBlob.
using BlobChunkSink = std::function<Result<void>(std::string_view chunk)>;

struct RegistryClientOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // A transfer below 1 byte/s for this long is abandoned as stalled (Unavailable).
  std::chrono::seconds stall_timeout{60};
  // Manifests and indexes are small; a larger one is refused (InvalidArgument): at once when its
  // Content-Length says so, else as soon as the bytes pass the limit.
  int64_t max_manifest_bytes = 4 << 20;
  std::string user_agent;  // default "berth/<version>"
};

// One pull from one repository. Not thread-safe (one libcurl handle, reused for keep-alive); use
// one session per pulling thread.
class RegistrySession {
 public:
  ~RegistrySession();
  RegistrySession(const RegistrySession&) = delete;
  RegistrySession& operator=(const RegistrySession&) = delete;

  // GET /v2/<path>/manifests/<tag_or_digest>, trying the endpoints in order (the one that served
  // the previous manifest first). `tag_or_digest` is a tag or "sha256:…"; `accept_media_types` go
  // into Accept (docker-registry answers 404 for an index or OCI manifest whose type is not
  // accepted).
  Result<FetchedManifest> FetchManifest(std::string_view tag_or_digest,
                                        const std::vector<std::string>& accept_media_types);

  // GET /v2/<path>/blobs/<digest>, following redirects to blob storage, streamed to `sink`. The
  // endpoint that served the last manifest is tried first, then the others; a transfer cut short
  // resumes on the next endpoint with a Range request. More than `expected_size` bytes is
  // InvalidArgument (nothing past the limit reaches the sink); fewer is Unavailable. The digest is
  // not checked here: the caller hashes what it stores.
  Result<void> FetchBlob(const Digest& digest, int64_t expected_size, const BlobChunkSink& sink);

  const Reference& reference() const { return reference_; }
  // The endpoints in the order they are tried ("http://127.0.0.1:5000", …).
  std::vector<std::string> endpoints() const;

 private:
  friend class RegistryClient;
  struct EndpointState {
    registry::Endpoint endpoint;
    registry::Credentials credentials;
    std::optional<registry::Challenge> challenge;  // learned from its first 401
  };
  struct Attempt {
    size_t endpoint_index;
    Error error;
  };

  RegistrySession(Reference reference, std::vector<EndpointState> endpoints,
                  std::shared_ptr<registry::TokenCache> tokens,
                  std::unique_ptr<registry::HttpTransport> http, std::vector<std::string> insecure,
                  RegistryClientOptions options, CancelToken cancel);

  Result<FetchedManifest> FetchManifestFrom(EndpointState& state, std::string_view object,
                                            std::string_view tag_or_digest,
                                            const std::optional<Digest>& pinned,
                                            const std::vector<std::string>& accept);
  Result<void> FetchBlobFrom(EndpointState& state, std::string_view object, const Digest& digest,
                             int64_t expected_size, const BlobChunkSink& sink, int64_t& delivered,
                             bool& terminal);
  std::vector<size_t> EndpointOrder() const;
  Error CombineAttempts(std::string_view object, std::vector<Attempt> attempts) const;
  Error StatusError(const EndpointState& state, const registry::HttpResponse& response,
                    std::string_view object) const;

  // Authentication (registry_session_auth.cc): sends `request` to the endpoint with whatever
  // Authorization it needs, learning the challenge and retrying once on a 401.
  Result<registry::HttpResponse> Send(EndpointState& state, registry::HttpRequest request,
                                      int64_t max_body, const registry::BodySink& sink);
  Result<std::string> AuthorizationFor(EndpointState& state);
  Result<void> LearnChallenge(EndpointState& state, const registry::HttpResponse& response);
  Result<std::string> BearerToken(EndpointState& state);
  Result<registry::TokenResponse> RequestToken(EndpointState& state, const std::string& realm,
                                               const std::string& service,
                                               const std::vector<std::string>& scopes);
  registry::TokenKey TokenKeyFor(const EndpointState& state) const;
  Error AuthenticationFailed(const EndpointState& state, std::string_view why) const;

  Reference reference_;
  std::vector<EndpointState> endpoints_;
  std::shared_ptr<registry::TokenCache> tokens_;
  std::unique_ptr<registry::HttpTransport> http_;
  std::vector<std::string> insecure_;
  RegistryClientOptions options_;
  CancelToken cancel_;
  size_t sticky_endpoint_ = 0;  // served the last manifest: blobs go there first
};

// One per daemon; thread-safe. Holds the registry configuration and the bearer token cache that
// all sessions share.
class RegistryClient {
 public:
  explicit RegistryClient(RegistryConfig config, RegistryClientOptions options = {});

  // Opens a session for `ref`'s repository. `credentials` come from the CRI request's AuthConfig
  // when it carried any (an all-empty one counts as none); otherwise config.auths[host] is used.
  // `cancel` bounds everything the session does. A malformed mirror endpoint or `auth` field is
  // InvalidArgument.
  Result<std::unique_ptr<RegistrySession>> OpenSession(const Reference& ref,
                                                       std::optional<RegistryAuth> credentials,
                                                       CancelToken cancel) const;

  // Cached bearer tokens (for tests and status).
  size_t cached_tokens() const { return tokens_->size(); }

 private:
  Result<registry::Credentials> ConfiguredCredentials(const std::vector<std::string>& keys) const;

  RegistryConfig config_;
  RegistryClientOptions options_;
  std::shared_ptr<registry::TokenCache> tokens_;
};

}  // namespace berth::image
