// Image references as kubelet, crictl and containerd read them: the docker/distribution grammar
// with Docker Hub normalization ("busybox" is "docker.io/library/busybox:latest").
//
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ domain "/" ] path            (at most 255 characters once normalized)
//   domain    := host [ ":" port ]              host: DNS name, IPv4, or [IPv6]
//   path      := component ( "/" component )*
//   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//
// The first "/"-separated part is a domain only if it contains '.' or ':' or is "localhost";
// otherwise the domain is docker.io, and a single-component docker.io path gets "library/".
// "index.docker.io" is the legacy name of docker.io. A reference with neither tag nor digest gets
// the tag "latest"; one with a digest keeps only what it was given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/digest.h"

namespace berth::image {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";
inline constexpr size_t kMaxNameLength = 255;
inline constexpr size_t kMaxTagLength = 128;

struct Reference {
  std::string domain;            // "docker.io", "registry.local:5000", "localhost", "[::1]:5000"
  std::string path;              // "library/busybox"
  std::string tag;               // empty only when a digest was given without a tag
  std::optional<Digest> digest;  // pinned content, when given

  // "docker.io/library/busybox": the repository, without tag or digest.
  std::string FullName() const;
  // The normalized reference: "docker.io/library/busybox:latest",
  // "docker.io/library/busybox@sha256:…", or "host/x:tag@sha256:…" when both were given.
  std::string String() const;

  friend bool operator==(const Reference&, const Reference&) = default;
};

// Parses and normalizes `text`; a malformed reference is InvalidArgument naming the reason
// ("invalid image reference \"Busybox\": repository name must be lowercase").
Result<Reference> ParseReference(std::string_view text);

}  // namespace berth::image
