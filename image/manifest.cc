#include "image/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

namespace berth::image {
namespace {

using Json = nlohmann::json;

Result<Json> ParseJson(std::string_view content, size_t max_bytes, const char* what) {
  if (content.size() > max_bytes) {
    return InvalidArgument(std::string(what) + " is larger than " + std::to_string(max_bytes) +
                           " bytes");
  }
  Json json = Json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidArgument(std::string(what) + " is not valid JSON");
  if (!json.is_object()) return InvalidArgument(std::string(what) + " is not a JSON object");
  return json;
}

std::string StringField(const Json& json, const char* key) {
  auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A JSON array of strings; null/missing is empty, anything else is an error.
Result<std::vector<std::string>> StringList(const Json& json, const char* key, const char* what) {
  std::vector<std::string> values;
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return values;
  if (!it->is_array()) return InvalidArgument(std::string(what) + ": " + key + " is not a list");
  for (const auto& item : *it) {
    if (!item.is_string()) {
      return InvalidArgument(std::string(what) + ": " + key + " holds a non-string");
    }
    values.push_back(item.get<std::string>());
  }
  return values;
}

// Keys of a JSON object used as a set ({"80/tcp": {}}), sorted.
std::vector<std::string> ObjectKeys(const Json& json, const char* key) {
  std::vector<std::string> keys;
  auto it = json.find(key);
  if (it == json.end() || !it->is_object()) return keys;
  for (const auto& [name, value] : it->items()) keys.push_back(name);
  return keys;
}

Result<Descriptor> ParseDescriptor(const Json& json, const char* what) {
  if (!json.is_object()) return InvalidArgument(std::string(what) + " is not an object");
  Descriptor descriptor;
  descriptor.media_type = StringField(json, "mediaType");
  auto digest = Digest::Parse(StringField(json, "digest"));
  if (!digest) return digest.error().Wrap(what);
  descriptor.digest = *digest;
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return InvalidArgument(std::string(what) + " " + descriptor.digest.String() +
                           " has no valid size");
  }
  descriptor.size = size->get<int64_t>();
  if (auto platform = json.find("platform"); platform != json.end() && platform->is_object()) {
    descriptor.platform =
        Platform{StringField(*platform, "os"), StringField(*platform, "architecture"),
                 StringField(*platform, "variant")};
  }
  if (auto annotations = json.find("annotations");
      annotations != json.end() && annotations->is_object()) {
    for (const auto& [key, value] : annotations->items()) {
      if (value.is_string()) descriptor.annotations[key] = value.get<std::string>();
    }
  }
  return descriptor;
}

std::string NormalizeArchitecture(std::string architecture) {
  if (architecture == "x86_64" || architecture == "x86-64") return "amd64";
  if (architecture == "aarch64") return "arm64";
  if (architecture == "i386" || architecture == "i686") return "386";
  return architecture;
}

// Variants that run on `want`, best first.
std::vector<std::string> CompatibleVariants(const Platform& want) {
  if (want.architecture == "arm64") return {"", "v8"};
  if (want.architecture == "amd64") return {"", "v1", "v2"};
  if (want.architecture == "arm") {
    std::string variant = want.variant.empty() ? "v7" : want.variant;
    if (variant == "v8" || variant == "v7") return {"v7", "v6", "v5", ""};
    if (variant == "v6") return {"v6", "v5"};
    return {variant};
  }
  return {want.variant, ""};
}

}  // namespace

const std::vector<std::string>& ManifestMediaTypes() {
  static const std::vector<std::string> types = {
      media_type::kOciIndex, media_type::kDockerManifestList, media_type::kOciManifest,
      media_type::kDockerManifest};
  return types;
}

std::string Platform::String() const {
  std::string text = os + "/" + architecture;
  if (!variant.empty()) text += "/" + variant;
  return text;
}

Platform HostPlatform() {
  struct utsname uts {};
  std::string machine = uname(&uts) == 0 ? uts.machine : "x86_64";
  Platform platform{"linux", NormalizeArchitecture(machine), ""};
  if (machine == "armv7l") platform = {"linux", "arm", "v7"};
  if (machine == "armv6l") platform = {"linux", "arm", "v6"};
  return platform;
}

Result<ManifestKind> ClassifyManifest(std::string_view media_type, std::string_view content) {
  std::string type(media_type.substr(0, media_type.find(';')));
  if (type.empty() || type == "application/json" || type == "text/plain" ||
      type == "application/octet-stream") {
    // Registries and layouts may not say; the document's own mediaType or shape does.
    BERTH_ASSIGN_OR_RETURN(Json json, ParseJson(content, kMaxManifestBytes, "manifest"));
    type = StringField(json, "mediaType");
    if (type.empty()) {
      if (json.contains("manifests")) return ManifestKind::kIndex;
      if (json.contains("config") && json.contains("layers")) return ManifestKind::kImage;
      if (json.contains("fsLayers")) type = media_type::kDockerSchema1;
    }
  }
  if (type == media_type::kOciIndex || type == media_type::kDockerManifestList) {
    return ManifestKind::kIndex;
  }
  if (type == media_type::kOciManifest || type == media_type::kDockerManifest) {
    return ManifestKind::kImage;
  }
  if (type == media_type::kDockerSchema1 || type == media_type::kDockerSchema1Signed) {
    return FailedPrecondition(
        "Docker schema 1 manifests are deprecated and not supported; push the image again with "
        "a current client");
  }
  return InvalidArgument("unsupported manifest media type \"" + type + "\"");
}

Result<ImageIndex> ParseImageIndex(std::string_view content) {
  BERTH_ASSIGN_OR_RETURN(Json json, ParseJson(content, kMaxManifestBytes, "image index"));
  auto manifests = json.find("manifests");
  if (manifests == json.end() || !manifests->is_array()) {
    return InvalidArgument("image index has no manifests list");
  }
  ImageIndex index;
  for (const auto& item : *manifests) {
    BERTH_ASSIGN_OR_RETURN(Descriptor descriptor, ParseDescriptor(item, "index entry"));
    index.manifests.push_back(std::move(descriptor));
  }
  return index;
}

Result<ImageManifest> ParseImageManifest(std::string_view content) {
  BERTH_ASSIGN_OR_RETURN(Json json, ParseJson(content, kMaxManifestBytes, "image manifest"));
  ImageManifest manifest;
  manifest.media_type = StringField(json, "mediaType");
  auto config = json.find("config");
  if (config == json.end()) return InvalidArgument("image manifest has no config");
  BERTH_ASSIGN_OR_RETURN(manifest.config, ParseDescriptor(*config, "manifest config"));
  const std::string& config_type = manifest.config.media_type;
  if (config_type != media_type::kOciConfig && config_type != media_type::kDockerConfig) {
    return InvalidArgument("image manifest config has unsupported media type \"" + config_type +
                           "\" (not a container image)");
  }
  auto layers = json.find("layers");
  if (layers == json.end() || !layers->is_array()) {
    return InvalidArgument("image manifest has no layers list");
  }
  for (const auto& item : *layers) {
    BERTH_ASSIGN_OR_RETURN(Descriptor layer, ParseDescriptor(item, "layer"));
    if (!IsLayerMediaType(layer.media_type)) {
      return InvalidArgument("layer " + layer.digest.String() + " has unsupported media type \"" +
                             layer.media_type + "\"");
    }
    manifest.layers.push_back(std::move(layer));
  }
  return manifest;
}

Result<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& want) {
  std::vector<std::string> variants = CompatibleVariants(want);
  const Descriptor* best = nullptr;
  size_t best_rank = variants.size();
  std::string available;
  for (const auto& descriptor : index.manifests) {
    if (!descriptor.platform) continue;
    const Platform& have = *descriptor.platform;
    if (!available.empty()) available += ", ";
    available += have.String();
    if (have.os != want.os || NormalizeArchitecture(have.architecture) != want.architecture)
      continue;
    for (size_t rank = 0; rank < best_rank; ++rank) {
      if (have.variant == variants[rank]) {
        best = &descriptor;
        best_rank = rank;
        break;
      }
    }
  }
  if (best == nullptr) {
    return NotFound("no image for platform " + want.String() + " in the index (it has: " +
                    (available.empty() ? "no platforms" : available) + ")");
  }
  return *best;
}

Result<ImageConfig> ParseImageConfig(std::string_view content) {
  BERTH_ASSIGN_OR_RETURN(Json json, ParseJson(content, kMaxConfigBytes, "image config"));
  ImageConfig config;
  config.architecture = StringField(json, "architecture");
  config.os = StringField(json, "os");
  config.variant = StringField(json, "variant");
  if (auto inner = json.find("config"); inner != json.end() && inner->is_object()) {
    config.user = StringField(*inner, "User");
    config.working_dir = StringField(*inner, "WorkingDir");
    config.stop_signal = StringField(*inner, "StopSignal");
    BERTH_ASSIGN_OR_RETURN(config.env, StringList(*inner, "Env", "image config"));
    BERTH_ASSIGN_OR_RETURN(config.entrypoint, StringList(*inner, "Entrypoint", "image config"));
    BERTH_ASSIGN_OR_RETURN(config.cmd, StringList(*inner, "Cmd", "image config"));
    config.exposed_ports = ObjectKeys(*inner, "ExposedPorts");
    config.volumes = ObjectKeys(*inner, "Volumes");
    if (auto labels = inner->find("Labels"); labels != inner->end() && labels->is_object()) {
      for (const auto& [key, value] : labels->items()) {
        if (value.is_string()) config.labels[key] = value.get<std::string>();
      }
    }
  }
  auto rootfs = json.find("rootfs");
  if (rootfs == json.end() || !rootfs->is_object()) {
    return InvalidArgument("image config has no rootfs");
  }
  BERTH_ASSIGN_OR_RETURN(auto diff_ids, StringList(*rootfs, "diff_ids", "image config rootfs"));
  for (const auto& text : diff_ids) {
    auto digest = Digest::Parse(text);
    if (!digest) return digest.error().Wrap("image config rootfs diff_id");
    config.diff_ids.push_back(*digest);
  }
  return config;
}

bool IsLayerMediaType(std::string_view media_type) {
  static const char* const kTypes[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.diff.tar",
  };
  for (const char* type : kTypes) {
    if (media_type == type) return true;
  }
  return false;
}

std::vector<Digest> ChainIds(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> chain;
  for (const auto& diff_id : diff_ids) {
    if (chain.empty()) {
      chain.push_back(diff_id);
    } else {
      chain.push_back(ComputeDigest(chain.back().String() + " " + diff_id.String()));
    }
  }
  return chain;
}

}  // namespace berth::image
