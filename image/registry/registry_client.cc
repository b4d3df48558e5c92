#include "image/registry/registry_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/version.h"

namespace berth::image {
namespace {

using registry::HttpRequest;
using registry::HttpResponse;

bool IsCancellation(const Error& error) {
  return error.code() == ErrorCode::kCancelled || error.code() == ErrorCode::kDeadlineExceeded;
}

// Tags are the only reference part that reaches a URL unparsed by Digest; keep them to their
// grammar so that nothing but a path segment can be formed.
bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength || tag.front() == '.' || tag.front() == '-') {
    return false;
  }
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// The media type a registry gave for a manifest: Content-Type when it names a real type, else
// what the document says about itself.
std::string ManifestMediaType(const HttpResponse& response, std::string_view content) {
  std::string type = response.Header("content-type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (!type.empty() && type != "application/json" && type != "text/plain" &&
      type != "application/octet-stream") {
    return type;
  }
  auto json = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return type;
  auto declared = json.find("mediaType");
  if (declared != json.end() && declared->is_string()) return declared->get<std::string>();
  if (json.contains("manifests")) return "application/vnd.oci.image.index.v1+json";
  if (json.contains("config")) return "application/vnd.oci.image.manifest.v1+json";
  return type;
}

// Checks a manifest's bytes against the digest asked for, or (by tag) against the registry's
// Docker-Content-Digest header; returns the digest the manifest is known by.
Result<Digest> VerifyManifestDigest(const HttpResponse& response, std::string_view content,
                                    const std::optional<Digest>& pinned, std::string_view where) {
  if (pinned.has_value()) {
    Digest actual = ComputeDigest(content, pinned->algorithm());
    if (actual != *pinned) {
      return InvalidArgument("manifest from " + std::string(where) + " has digest " +
                             actual.String() + ", not the requested " + pinned->String());
    }
    return *pinned;
  }
  auto header = response.Header("docker-content-digest");
  if (!header.has_value() || header->empty()) return ComputeDigest(content);
  auto claimed = Digest::Parse(*header);
  if (!claimed.ok()) {
    return InvalidArgument("manifest from " + std::string(where) +
                           ": malformed Docker-Content-Digest header");
  }
  Digest actual = ComputeDigest(content, claimed->algorithm());
  if (actual != *claimed) {
    return InvalidArgument("manifest from " + std::string(where) + " has digest " +
                           actual.String() + " but the registry says " + claimed->String());
  }
  return actual;
}

// A mirror that fails is worth an operator's attention; the origin's own https-then-http dance
// is routine and its final failure is reported to the caller anyway.
void LogFallback(const registry::Endpoint& endpoint, const Error& error) {
  auto level = endpoint.mirror ? spdlog::level::info : spdlog::level::debug;
  spdlog::log(level, "registry: {} failed, trying the next endpoint: {}", endpoint.Url(),
              error.message());
}

// Where a blob response continues the bytes already delivered: the number of leading bytes of
// its body to drop (a 200 restarts from zero; a 206 must start exactly at `delivered`).
Result<int64_t> BytesToSkip(const HttpResponse& head, int64_t delivered) {
  if (head.status != 206) return delivered;
  std::string range = head.Header("content-range").value_or("");
  int64_t start = -1;
  if (range.starts_with("bytes ")) start = std::atoll(range.c_str() + 6);
  if (start != delivered) {
    return Unavailable("range response starts at byte " + std::to_string(start) + ", not " +
                       std::to_string(delivered));
  }
  return 0;
}

}  // namespace

RegistrySession::RegistrySession(Reference reference, std::vector<EndpointState> endpoints,
                                 std::shared_ptr<registry::TokenCache> tokens,
                                 std::unique_ptr<registry::HttpTransport> http,
                                 std::vector<std::string> insecure, RegistryClientOptions options,
                                 CancelToken cancel)
    : reference_(std::move(reference)),
      endpoints_(std::move(endpoints)),
      tokens_(std::move(tokens)),
      http_(std::move(http)),
      insecure_(std::move(insecure)),
      options_(std::move(options)),
      cancel_(std::move(cancel)) {}

RegistrySession::~RegistrySession() = default;

std::vector<std::string> RegistrySession::endpoints() const {
  std::vector<std::string> urls;
  for (const auto& state : endpoints_) urls.push_back(state.endpoint.Url());
  return urls;
}

std::vector<size_t> RegistrySession::EndpointOrder() const {
  // The endpoint that served the last manifest first: a mirror has the children and blobs of
  // what it serves, and an origin that answered over http need not be tried over https again.
  std::vector<size_t> order{sticky_endpoint_};
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (i != sticky_endpoint_) order.push_back(i);
  }
  return order;
}

Result<FetchedManifest> RegistrySession::FetchManifest(
    std::string_view tag_or_digest, const std::vector<std::string>& accept_media_types) {
  std::optional<Digest> pinned;
  std::string object = "manifest for " + reference_.FullName();
  if (tag_or_digest.find(':') != std::string_view::npos) {
    BERTH_ASSIGN_OR_RETURN(pinned, Digest::Parse(tag_or_digest));
    object += "@" + pinned->String();
  } else if (IsValidTag(tag_or_digest)) {
    object += ":" + std::string(tag_or_digest);
  } else {
    return InvalidArgument("invalid tag \"" + std::string(tag_or_digest) + "\"");
  }
  BERTH_TRY(cancel_.Check(("fetch " + object).c_str()));
  std::vector<Attempt> attempts;
  for (size_t i : EndpointOrder()) {
    auto fetched =
        FetchManifestFrom(endpoints_[i], object, tag_or_digest, pinned, accept_media_types);
    if (fetched.ok()) {
      sticky_endpoint_ = i;
      return fetched;
    }
    if (IsCancellation(fetched.error())) return std::move(fetched).error();
    LogFallback(endpoints_[i].endpoint, fetched.error());
    attempts.push_back({i, std::move(fetched).error()});
  }
  return CombineAttempts(object, std::move(attempts));
}

Result<FetchedManifest> RegistrySession::FetchManifestFrom(EndpointState& state,
                                                           std::string_view object,
                                                           std::string_view tag_or_digest,
                                                           const std::optional<Digest>& pinned,
                                                           const std::vector<std::string>& accept) {
  const std::string where = state.endpoint.Url();
  HttpRequest request;
  request.url = registry::ManifestUrl(state.endpoint, reference_.path, tag_or_digest);
  if (!accept.empty()) request.headers.push_back("Accept: " + Join(accept, ", "));
  request.follow_redirects = true;
  request.allow_plain_http = state.endpoint.plain_http();
  request.skip_verify = state.endpoint.skip_verify;
  std::string content;
  auto collect = [&content](const HttpResponse&, std::string_view chunk) -> Result<void> {
    content.append(chunk);
    return Ok();
  };
  auto sent = Send(state, std::move(request), options_.max_manifest_bytes, collect);
  if (!sent.ok()) {
    if (sent.error().code() == ErrorCode::kInvalidArgument) {
      return std::move(sent).error().Wrap(std::string(object) + " at " + where);
    }
    return std::move(sent).error();
  }
  if (!sent->success()) return StatusError(state, *sent, object);
  FetchedManifest manifest;
  BERTH_ASSIGN_OR_RETURN(manifest.digest, VerifyManifestDigest(*sent, content, pinned, where));
  manifest.media_type = ManifestMediaType(*sent, content);
  manifest.content = std::move(content);
  manifest.endpoint = where;
  return manifest;
}

Result<void> RegistrySession::FetchBlob(const Digest& digest, int64_t expected_size,
                                        const BlobChunkSink& sink) {
  std::string object = "blob " + digest.String() + " of " + reference_.FullName();
  if (digest.empty() || expected_size < 0) {
    return InvalidArgument(object + ": needs a digest and a size");
  }
  BERTH_TRY(cancel_.Check(("fetch " + object).c_str()));
  int64_t delivered = 0;
  std::vector<Attempt> attempts;
  for (size_t i : EndpointOrder()) {
    bool terminal = false;
    auto fetched =
        FetchBlobFrom(endpoints_[i], object, digest, expected_size, sink, delivered, terminal);
    if (fetched.ok()) return fetched;
    if (terminal || IsCancellation(fetched.error())) return std::move(fetched).error();
    LogFallback(endpoints_[i].endpoint, fetched.error());
    attempts.push_back({i, std::move(fetched).error()});
  }
  return CombineAttempts(object, std::move(attempts));
}

Result<void> RegistrySession::FetchBlobFrom(EndpointState& state, std::string_view object,
                                            const Digest& digest, int64_t expected_size,
                                            const BlobChunkSink& sink, int64_t& delivered,
                                            bool& terminal) {
  const std::string where = state.endpoint.Url();
  HttpRequest request;
  request.url = registry::BlobUrl(state.endpoint, reference_.path, digest.String());
  // Resume what an earlier endpoint cut short; a server that ignores Range sends everything and
  // the part already delivered is dropped.
  if (delivered > 0) request.headers.push_back("Range: bytes=" + std::to_string(delivered) + "-");
  request.follow_redirects = true;
  request.allow_plain_http = state.endpoint.plain_http();
  request.skip_verify = state.endpoint.skip_verify;
  bool head_checked = false;
  int64_t skip = 0;
  auto forward = [&](const HttpResponse& head, std::string_view chunk) -> Result<void> {
    if (!head_checked) {
      head_checked = true;
      BERTH_ASSIGN_OR_RETURN(skip, BytesToSkip(head, delivered));
      auto length = head.Header("content-length");
      if (length.has_value() &&
          std::strtoll(length->c_str(), nullptr, 10) > expected_size - delivered + skip) {
        terminal = true;
        return InvalidArgument(std::string(object) + ": " + where + " announces " + *length +
                               " bytes, more than the expected " + std::to_string(expected_size));
      }
    }
    size_t dropped = static_cast<size_t>(std::min<int64_t>(skip, int64_t(chunk.size())));
    chunk.remove_prefix(dropped);
    skip -= int64_t(dropped);
    if (chunk.empty()) return Ok();
    if (delivered + int64_t(chunk.size()) > expected_size) {
      terminal = true;
      return InvalidArgument(std::string(object) + ": " + where + " sent more than the expected " +
                             std::to_string(expected_size) + " bytes");
    }
    auto sunk = sink(chunk);
    if (!sunk.ok()) {
      terminal = true;
      return sunk;
    }
    delivered += int64_t(chunk.size());
    return Ok();
  };
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, Send(state, std::move(request),
                                                     std::numeric_limits<int64_t>::max(), forward));
  if (!response.success()) return StatusError(state, response, object);
  if (delivered != expected_size) {
    return Unavailable(std::string(object) + ": " + where + " sent " + std::to_string(delivered) +
                       " of " + std::to_string(expected_size) + " bytes");
  }
  return Ok();
}

Error RegistrySession::StatusError(const EndpointState& state, const HttpResponse& response,
                                   std::string_view object) const {
  std::string where = state.endpoint.Url();
  std::string status = registry::DescribeStatus(response);
  std::string subject(object);
  switch (response.status) {
    case 404: return NotFound(subject + " not found at " + where + ": " + status);
    case 401: return AuthenticationFailed(state, status);
    case 403:
      return Error(ErrorCode::kPermissionDenied,
                   "access to " + subject + " denied at " + where + ": " + status);
    case 408:
    case 429: return Unavailable(where + " answered " + status + " for " + subject);
    default:
      if (response.status >= 500)
        return Unavailable(where + " answered " + status + " for " + subject);
      return FailedPrecondition(where + " answered " + status + " for " + subject);
  }
}

Error RegistrySession::CombineAttempts(std::string_view object,
                                       std::vector<Attempt> attempts) const {
  auto is_origin = [this](const Attempt& attempt) {
    return !endpoints_[attempt.endpoint_index].endpoint.mirror;
  };
  // An insecure or loopback host tried over https and then http: when it answered over one,
  // "unreachable over the other" is noise (a plain-http registry never speaks TLS).
  bool origin_answered = std::any_of(attempts.begin(), attempts.end(), [&](const Attempt& a) {
    return is_origin(a) && a.error.code() != ErrorCode::kUnavailable;
  });
  if (origin_answered) {
    std::erase_if(attempts, [&](const Attempt& a) {
      return is_origin(a) && a.error.code() == ErrorCode::kUnavailable;
    });
  }
  if (attempts.size() == 1) return std::move(attempts.front().error);
  // The origin host has the last word: its definite answer, else the last failure.
  const Attempt* chosen = &attempts.back();
  for (const auto& attempt : attempts) {
    if (is_origin(attempt) && attempt.error.code() != ErrorCode::kUnavailable) {
      chosen = &attempt;
      break;
    }
  }
  std::vector<std::string> tried;
  std::vector<std::string> reasons;
  for (const auto& attempt : attempts) {
    tried.push_back(endpoints_[attempt.endpoint_index].endpoint.Url());
    reasons.push_back(attempt.error.message());
  }
  return Error(chosen->error.code(), std::string(object) + ": every endpoint failed (tried " +
                                         Join(tried, ", ") + "): " + Join(reasons, "; "));
}

RegistryClient::RegistryClient(RegistryConfig config, RegistryClientOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      tokens_(std::make_shared<registry::TokenCache>()) {
  if (options_.user_agent.empty()) options_.user_agent = std::string("berth/") + kBerthVersion;
  registry::EnsureCurlInitialized();
}

Result<registry::Credentials> RegistryClient::ConfiguredCredentials(
    const std::vector<std::string>& keys) const {
  for (const auto& key : keys) {
    auto it = config_.auths.find(key);
    if (it != config_.auths.end()) return registry::CredentialsFromAuth(it->second);
  }
  return registry::Credentials{};
}

Result<std::unique_ptr<RegistrySession>> RegistryClient::OpenSession(
    const Reference& ref, std::optional<RegistryAuth> credentials, CancelToken cancel) const {
  BERTH_ASSIGN_OR_RETURN(auto endpoints, registry::ResolveEndpoints(ref.domain, config_));
  registry::Credentials origin;
  if (credentials.has_value()) {
    BERTH_ASSIGN_OR_RETURN(origin, registry::CredentialsFromAuth(*credentials));
  }
  if (origin.empty()) {
    BERTH_ASSIGN_OR_RETURN(origin, ConfiguredCredentials(registry::AuthLookupKeys(ref.domain)));
  }
  std::vector<RegistrySession::EndpointState> states;
  for (auto& endpoint : endpoints) {
    registry::Credentials endpoint_credentials = origin;
    if (endpoint.mirror) {
      BERTH_ASSIGN_OR_RETURN(endpoint_credentials, ConfiguredCredentials({endpoint.host}));
    }
    states.push_back({std::move(endpoint), std::move(endpoint_credentials), std::nullopt});
  }
  registry::HttpOptions http_options{options_.connect_timeout, options_.stall_timeout,
                                     options_.user_agent};
  BERTH_ASSIGN_OR_RETURN(auto http, registry::HttpTransport::Create(std::move(http_options)));
  return std::unique_ptr<RegistrySession>(new RegistrySession(ref, std::move(states), tokens_,
                                                              std::move(http), config_.insecure,
                                                              options_, std::move(cancel)));
}

}  // namespace berth::image
