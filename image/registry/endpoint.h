// Where a pull goes: the endpoints of one registry host (its mirrors in order, then the host
// itself) and the URLs of the distribution API on them. Pure logic, unit tested.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace berth::image::registry {

struct Endpoint {
  std::string scheme;        // "https" or "http"
  std::string host;          // "registry-1.docker.io", "127.0.0.1:5000", "[::1]:5000"
  bool mirror = false;       // from config mirrors, not the reference's own host
  bool skip_verify = false;  // https without certificate checks (host listed as insecure)

  // "https://registry-1.docker.io": how the endpoint is named in errors and FetchedManifest.
  std::string Url() const { return scheme + "://" + host; }
  bool plain_http() const { return scheme == "http"; }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses a mirror endpoint: "scheme://host[:port]" with scheme http or https, or a bare
// "host[:port]" meaning https. A trailing "/" (or "/v2" / "/v2/", as some configs write it) is
// allowed; other paths, queries, user info and empty hosts are InvalidArgument.
Result<Endpoint> ParseEndpoint(std::string_view text);

// The host name without its port: "127.0.0.1:5000" -> "127.0.0.1", "[::1]:5000" -> "[::1]".
std::string_view HostWithoutPort(std::string_view host);

// Whether `host` ("host[:port]") is listed in `insecure`. An entry with a port matches only that
// port; an entry without one matches the host on any port.
bool IsInsecureHost(std::string_view host, const std::vector<std::string>& insecure);

// localhost, 127.0.0.0/8 and [::1]: as in containerd, these may be reached over plain HTTP
// without being listed as insecure, since their traffic never leaves the machine.
bool IsLoopbackHost(std::string_view host);

// The host that serves the API for a reference domain: docker.io is served by
// registry-1.docker.io; every other domain serves itself.
std::string ApiHost(std::string_view domain);

// The endpoints for a pull from `domain`, in the order to try them: each configured mirror as
// written (a bare mirror host is https, without verification if the host is insecure), then the
// API host over https, and, when the host is insecure or loopback, https without verification
// followed by plain http (containerd's order). An unparsable mirror is InvalidArgument.
Result<std::vector<Endpoint>> ResolveEndpoints(std::string_view domain,
                                               const RegistryConfig& config);

// Keys under which credentials for `domain` may be stored in RegistryConfig::auths, most
// specific first (docker.io is also known as index.docker.io and by docker's v1 URL).
std::vector<std::string> AuthLookupKeys(std::string_view domain);

// Distribution API URLs. `path` and `reference` come from a parsed Reference / Digest, whose
// grammars only allow URL-safe characters.
std::string ManifestUrl(const Endpoint& endpoint, std::string_view path,
                        std::string_view tag_or_digest);
std::string BlobUrl(const Endpoint& endpoint, std::string_view path, std::string_view digest);

// The pull scope of the token protocol: "repository:library/busybox:pull".
std::string PullScope(std::string_view path);

}  // namespace berth::image::registry
