// OCI / Docker manifests, indexes and image configs: parsing (they are untrusted registry data),
// media-type checks and platform selection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/digest.h"

namespace berth::image {

namespace media_type {
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerConfig[] = "application/vnd.docker.container.image.v1+json";
inline constexpr char kDockerSchema1[] = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr char kDockerSchema1Signed[] =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
}  // namespace media_type

// The Accept list for manifest requests, most preferred first.
const std::vector<std::string>& ManifestMediaTypes();

// Size bounds for untrusted JSON documents.
inline constexpr size_t kMaxManifestBytes = 4 << 20;
inline constexpr size_t kMaxConfigBytes = 8 << 20;

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string String() const;  // "linux/arm/v7"
};

// The node's own platform (linux + uname's machine in Go's names, e.g. amd64, arm64).
Platform HostPlatform();

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

enum class ManifestKind { kIndex, kImage };

// Which of the two a document is, from its media type (Content-Type or the JSON's own
// "mediaType"; an OCI document may omit it, then its shape decides). Schema 1 and unknown types
// are FailedPrecondition / InvalidArgument with the reason.
Result<ManifestKind> ClassifyManifest(std::string_view media_type, std::string_view content);

struct ImageIndex {
  std::vector<Descriptor> manifests;
};

struct ImageManifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

Result<ImageIndex> ParseImageIndex(std::string_view content);
Result<ImageManifest> ParseImageManifest(std::string_view content);

// The manifest of `index` for `want`: os and architecture equal, and the best variant among the
// compatible ones (arm/v7 also runs v6 and v5; arm64 "v8" is the same as no variant; amd64 takes
// no variant or v1-v2). No match is NotFound listing the platforms the index has.
Result<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& want);

// The parts of an image config berth uses (OCI image-spec "config" + "rootfs").
struct ImageConfig {
  std::string architecture;
  std::string os;
  std::string variant;
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> volumes;        // "/data"
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::vector<Digest> diff_ids;
};

Result<ImageConfig> ParseImageConfig(std::string_view content);

// Layer media types berth can unpack (tar, tar+gzip, tar+zstd, their Docker and
// non-distributable forms). Anything else is an error at pull time.
bool IsLayerMediaType(std::string_view media_type);

// OCI chain IDs: chain[0] = diff_id[0], chain[i] = sha256(chain[i-1] + " " + diff_id[i]).
std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids);

}  // namespace berth::image
