#include "image/registry/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace berth::image::registry {
namespace {

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
         c == '[' || c == ']' || c == '_';
}

std::string_view StripApiPath(std::string_view rest) {
  for (std::string_view suffix : {"/v2/", "/v2", "/"}) {
    if (rest.ends_with(suffix)) return rest.substr(0, rest.size() - suffix.size());
  }
  return rest;
}

}  // namespace

Result<Endpoint> ParseEndpoint(std::string_view text) {
  Endpoint endpoint;
  std::string_view rest = text;
  size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) {
    endpoint.scheme = "https";
  } else {
    endpoint.scheme = std::string(rest.substr(0, scheme_end));
    rest.remove_prefix(scheme_end + 3);
    if (endpoint.scheme != "https" && endpoint.scheme != "http") {
      return InvalidArgument("registry endpoint \"" + std::string(text) +
                             "\": scheme must be http or https");
    }
  }
  rest = StripApiPath(rest);
  if (rest.empty() || !std::all_of(rest.begin(), rest.end(), IsHostChar)) {
    return InvalidArgument("registry endpoint \"" + std::string(text) +
                           "\": want scheme://host[:port] without path, query or user info");
  }
  endpoint.host = std::string(rest);
  return endpoint;
}

std::string_view HostWithoutPort(std::string_view host) {
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  size_t colon = host.find(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool IsInsecureHost(std::string_view host, const std::vector<std::string>& insecure) {
  std::string_view bare = HostWithoutPort(host);
  for (const auto& entry : insecure) {
    if (entry == host) return true;
    // An entry without a port covers every port of that host.
    if (HostWithoutPort(entry) == entry && entry == bare) return true;
  }
  return false;
}

bool IsLoopbackHost(std::string_view host) {
  std::string name(HostWithoutPort(host));
  if (name == "localhost" || name == "[::1]") return true;
  in_addr address{};
  if (::inet_pton(AF_INET, name.c_str(), &address) != 1) return false;
  return (ntohl(address.s_addr) >> 24) == 127;
}

std::string ApiHost(std::string_view domain) {
  if (domain == "docker.io") return "registry-1.docker.io";
  return std::string(domain);
}

Result<std::vector<Endpoint>> ResolveEndpoints(std::string_view domain,
                                               const RegistryConfig& config) {
  std::vector<Endpoint> endpoints;
  auto mirrors = config.mirrors.find(std::string(domain));
  if (mirrors != config.mirrors.end()) {
    for (const auto& text : mirrors->second) {
      BERTH_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(text));
      endpoint.mirror = true;
      endpoint.skip_verify =
          endpoint.scheme == "https" && IsInsecureHost(endpoint.host, config.insecure);
      endpoints.push_back(std::move(endpoint));
    }
  }
  std::string host = ApiHost(domain);
  bool insecure = IsInsecureHost(domain, config.insecure) || IsInsecureHost(host, config.insecure);
  bool plain_http_allowed = insecure || IsLoopbackHost(host);
  endpoints.push_back(Endpoint{"https", host, false, plain_http_allowed});
  if (plain_http_allowed) endpoints.push_back(Endpoint{"http", host, false, false});
  return endpoints;
}

std::vector<std::string> AuthLookupKeys(std::string_view domain) {
  std::vector<std::string> keys{std::string(domain)};
  if (domain == "docker.io") {
    keys.insert(keys.end(),
                {"index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"});
  }
  return keys;
}

std::string ManifestUrl(const Endpoint& endpoint, std::string_view path,
                        std::string_view tag_or_digest) {
  return endpoint.Url() + "/v2/" + std::string(path) + "/manifests/" + std::string(tag_or_digest);
}

std::string BlobUrl(const Endpoint& endpoint, std::string_view path, std::string_view digest) {
  return endpoint.Url() + "/v2/" + std::string(path) + "/blobs/" + std::string(digest);
}

std::string PullScope(std::string_view path) {
  return "repository:" + std::string(path) + ":pull";
}

}  // namespace berth::image::registry
