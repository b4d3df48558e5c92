// ImageManager::Import: OCI image layouts (a directory, or a tar of one) and `docker save`
// archives, unpacked exactly like a pull, so an air-gapped node needs no registry.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/random.h"
#include "image/image_manager.h"
#include "image/layer_extractor.h"
#include "image/rooted_path.h"

namespace berth::image {
namespace {

constexpr char kContainerdNameAnnotation[] = "io.containerd.image.name";
constexpr char kOciRefNameAnnotation[] = "org.opencontainers.image.ref.name";

// A file of an imported layout or archive. It is opened inside `dir` as a chroot would see it
// (openat2 RESOLVE_IN_ROOT): the import is untrusted like a layer, and a symlink it carries must
// not make berthd read a file of the host.
struct InsidePath {
  std::string dir;
  std::string relative;
  std::string String() const { return dir + "/" + relative; }
};

Result<void> StreamFile(const InsidePath& path, const BlobSink& sink) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(path.dir, O_PATH | O_DIRECTORY));
  auto opened = OpenInRoot(root, path.relative, O_RDONLY);
  if (!opened) return std::move(opened).error().Wrap("open " + path.String());
  UniqueFd fd = std::move(*opened);
  std::string buffer(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read " + path.String());
    }
    if (n == 0) return Ok();
    BERTH_TRY(sink(std::string_view(buffer.data(), static_cast<size_t>(n))));
  }
}

Result<std::string> ReadInside(const InsidePath& path, size_t max_bytes) {
  std::string content;
  BERTH_TRY(StreamFile(path, [&](std::string_view chunk) -> Result<void> {
    if (content.size() + chunk.size() > max_bytes) {
      return InvalidArgument(path.String() + " is larger than the limit of " +
                             std::to_string(max_bytes) + " bytes");
    }
    content.append(chunk);
    return Ok();
  }));
  return content;
}

// Blobs of an OCI layout: <dir>/blobs/<algorithm>/<hex>. Digest::Parse admits only hex, and the
// file is opened inside the layout.
class LayoutProvider : public ContentProvider {
 public:
  explicit LayoutProvider(std::string dir) : dir_(std::move(dir)) {}

  InsidePath BlobPath(const Digest& digest) const {
    return {dir_, "blobs/" + std::string(digest.algorithm_name()) + "/" + digest.encoded()};
  }
  Result<ManifestBytes> FetchManifest(const Descriptor& descriptor) override {
    BERTH_ASSIGN_OR_RETURN(std::string content,
                           ReadInside(BlobPath(descriptor.digest), kMaxManifestBytes));
    return ManifestBytes{descriptor.media_type, std::move(content), descriptor.digest};
  }
  Result<void> FetchBlob(const Descriptor& descriptor, const BlobSink& sink) override {
    return StreamFile(BlobPath(descriptor.digest), sink);
  }
  std::string Describe() const override { return "OCI layout " + dir_; }

 private:
  std::string dir_;
};

// A `docker save` archive: files named by manifest.json, addressed here by their digests.
class FileMapProvider : public ContentProvider {
 public:
  explicit FileMapProvider(std::string description) : description_(std::move(description)) {}
  void Add(const Digest& digest, InsidePath path) { files_[digest.String()] = std::move(path); }

  Result<ManifestBytes> FetchManifest(const Descriptor& descriptor) override {
    return NotFound("docker archive has no manifest " + descriptor.digest.String());
  }
  Result<void> FetchBlob(const Descriptor& descriptor, const BlobSink& sink) override {
    auto it = files_.find(descriptor.digest.String());
    if (it == files_.end())
      return NotFound("docker archive has no blob " + descriptor.digest.String());
    return StreamFile(it->second, sink);
  }
  std::string Describe() const override { return description_; }

 private:
  std::string description_;
  std::map<std::string, InsidePath> files_;
};

Result<Digest> DigestFile(const InsidePath& path, int64_t* size) {
  DigestHasher hasher;
  *size = 0;
  BERTH_TRY(StreamFile(path, [&](std::string_view chunk) -> Result<void> {
    hasher.Update(chunk.data(), chunk.size());
    *size += static_cast<int64_t>(chunk.size());
    return Ok();
  }));
  return hasher.Finish();
}

// A path named inside an archive's manifest.json, kept inside `dir`.
Result<InsidePath> ArchivePath(const std::string& dir, const std::string& relative) {
  if (relative.empty() || relative.front() == '/' || relative.find("..") != std::string::npos) {
    return InvalidArgument("docker archive names an unsafe path \"" + relative + "\"");
  }
  return InsidePath{dir, relative};
}

// One image of a docker save manifest.json. The archive is untrusted: every field is checked for
// its type here (json::value() and get<>() would throw on another).
struct DockerArchiveEntry {
  std::string config;
  std::vector<std::string> layers;
  std::vector<std::string> repo_tags;
};

Result<std::vector<std::string>> StringsAt(const nlohmann::json& item, const char* key) {
  std::vector<std::string> values;
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return values;
  if (!it->is_array())
    return InvalidArgument(std::string("docker archive manifest: ") + key + " is not a list");
  for (const auto& value : *it) {
    if (!value.is_string()) {
      return InvalidArgument(std::string("docker archive manifest: ") + key +
                             " holds a non-string");
    }
    values.push_back(value.get<std::string>());
  }
  return values;
}

Result<DockerArchiveEntry> ReadDockerArchiveEntry(const nlohmann::json& item) {
  if (!item.is_object())
    return InvalidArgument("docker archive manifest: an entry is not an object");
  DockerArchiveEntry entry;
  auto config = item.find("Config");
  if (config == item.end() || !config->is_string()) {
    return InvalidArgument("docker archive manifest: an entry has no Config");
  }
  entry.config = config->get<std::string>();
  BERTH_ASSIGN_OR_RETURN(entry.layers, StringsAt(item, "Layers"));
  BERTH_ASSIGN_OR_RETURN(entry.repo_tags, StringsAt(item, "RepoTags"));
  return entry;
}

// Names for an imported image: the caller's, else the layout's annotations.
std::vector<std::string> NamesOf(const Descriptor& entry, const std::string& override_name) {
  std::vector<std::string> names;
  if (!override_name.empty()) {
    names.push_back(override_name);
  } else if (auto it = entry.annotations.find(kContainerdNameAnnotation);
             it != entry.annotations.end()) {
    names.push_back(it->second);
  } else if (auto ref = entry.annotations.find(kOciRefNameAnnotation);
             ref != entry.annotations.end() && ref->second.find('/') != std::string::npos) {
    // A bare tag ("latest") names no repository; only a full reference is usable.
    names.push_back(ref->second);
  }
  return names;
}

// The schema 2 manifest a docker save entry stands for, its config and layers (hashed as they
// are) made fetchable through `provider`.
Result<ManifestBytes> DockerArchiveManifest(const std::string& dir, const DockerArchiveEntry& entry,
                                            FileMapProvider& provider) {
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", media_type::kDockerManifest},
                             {"layers", nlohmann::json::array()}};
  BERTH_ASSIGN_OR_RETURN(InsidePath config_path, ArchivePath(dir, entry.config));
  int64_t size = 0;
  BERTH_ASSIGN_OR_RETURN(Digest config_digest, DigestFile(config_path, &size));
  provider.Add(config_digest, config_path);
  manifest["config"] = {
      {"mediaType", media_type::kDockerConfig}, {"digest", config_digest.String()}, {"size", size}};
  for (const auto& layer : entry.layers) {
    BERTH_ASSIGN_OR_RETURN(InsidePath layer_path, ArchivePath(dir, layer));
    BERTH_ASSIGN_OR_RETURN(Digest layer_digest, DigestFile(layer_path, &size));
    provider.Add(layer_digest, layer_path);
    manifest["layers"].push_back({{"mediaType", "application/vnd.docker.image.rootfs.diff.tar"},
                                  {"digest", layer_digest.String()},
                                  {"size", size}});
  }
  std::string text = manifest.dump();
  Digest digest = ComputeDigest(text);
  return ManifestBytes{media_type::kDockerManifest, std::move(text), std::move(digest)};
}

}  // namespace

Result<std::vector<ImageManager::ImportedImage>> ImageManager::ImportLayout(
    const std::string& dir, const std::string& path, const std::string& name,
    const CancelToken& cancel) {
  BERTH_ASSIGN_OR_RETURN(std::string index_json,
                         ReadInside({dir, "index.json"}, kMaxManifestBytes));
  auto index = ParseImageIndex(index_json);
  if (!index) return std::move(index).error().Wrap("import " + path + ": index.json");
  if (index->manifests.empty())
    return InvalidArgument("import " + path + ": the layout holds no image");
  if (!name.empty() && index->manifests.size() != 1) {
    return InvalidArgument("import " + path +
                           ": a name can only be given to a layout with one image");
  }
  LayoutProvider provider(dir);
  std::vector<ImportedImage> images;
  for (const auto& entry : index->manifests) {
    auto root = provider.FetchManifest(entry);
    if (!root) return std::move(root).error().Wrap("import " + path);
    if (!(ComputeDigest(root->content, entry.digest.algorithm()) == entry.digest)) {
      return InvalidArgument("import " + path + ": manifest " + entry.digest.String() +
                             " does not match its digest");
    }
    auto record = Unpack(provider, *root, cancel);
    if (!record) return std::move(record).error().Wrap("import " + path);
    std::vector<std::string> refs;
    for (const auto& image_name : NamesOf(entry, name)) {
      auto reference = ParseReference(image_name);
      if (!reference) return std::move(reference).error().Wrap("import " + path);
      refs.push_back(reference->String());
      refs.push_back(reference->FullName() + "@" + entry.digest.String());
    }
    images.push_back({std::move(refs), std::move(*record)});
  }
  return images;
}

Result<std::vector<ImageManager::ImportedImage>> ImageManager::ImportDockerArchive(
    const std::string& dir, const std::string& path, const std::string& name,
    const CancelToken& cancel) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadInside({dir, "manifest.json"}, kMaxManifestBytes));
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_array() || json.empty()) {
    return InvalidArgument("import " + path + ": manifest.json is not a docker save manifest");
  }
  std::vector<ImportedImage> images;
  for (const auto& item : json) {
    auto read = ReadDockerArchiveEntry(item);
    if (!read) return std::move(read).error().Wrap("import " + path);
    const DockerArchiveEntry& entry = *read;
    FileMapProvider provider("docker archive " + path);
    BERTH_ASSIGN_OR_RETURN(ManifestBytes root, DockerArchiveManifest(dir, entry, provider));
    auto record = Unpack(provider, root, cancel);
    if (!record) return std::move(record).error().Wrap("import " + path);
    std::vector<std::string> tags;
    std::vector<std::string> repo_tags =
        name.empty() ? entry.repo_tags : std::vector<std::string>{name};
    for (const auto& tag : repo_tags) {
      auto reference = ParseReference(tag);
      if (!reference) return std::move(reference).error().Wrap("import " + path);
      tags.push_back(reference->String());
    }
    images.push_back({std::move(tags), std::move(*record)});
  }
  return images;
}

Result<std::vector<ImageRecord>> ImageManager::Import(const std::string& path,
                                                      const std::string& name,
                                                      const CancelToken& cancel) {
  std::string dir = path;
  std::string temp;
  struct Cleanup {
    std::string* path;
    ~Cleanup() {
      std::error_code ignored;
      if (!path->empty()) std::filesystem::remove_all(*path, ignored);
    }
  } cleanup{&temp};
  std::error_code not_a_directory;  // the throwing overload fails on ENAMETOOLONG, ELOOP, EACCES
  if (!std::filesystem::is_directory(path, not_a_directory)) {
    if (!PathExists(path)) return NotFound("import " + path + ": no such file or directory");
    // An archive is untrusted like a layer: unpack it with the same confined extractor.
    temp = options_.root + "/content/ingest/import-" + RandomHex(16);
    ApplyOptions unpack;
    unpack.preserve_ownership = false;
    unpack.create_devices = false;
    auto unpacked = ApplyLayerFile(path, temp, unpack);
    if (!unpacked) return std::move(unpacked).error().Wrap("import " + path + ": unpack archive");
    dir = temp;
  }

  std::shared_lock gc_guard(gc_mutex_);
  Result<std::vector<ImportedImage>> unpacked = InvalidArgument(
      "import " + path +
      ": neither an OCI layout (oci-layout, index.json) nor a docker save archive (manifest.json)");
  if (PathExists(dir + "/oci-layout") || PathExists(dir + "/index.json")) {
    unpacked = ImportLayout(dir, path, name, cancel);
  } else if (PathExists(dir + "/manifest.json")) {
    unpacked = ImportDockerArchive(dir, path, name, cancel);
  }
  if (!unpacked) return std::move(unpacked).error();

  std::vector<ImageRecord> imported;
  for (auto& [refs, record] : *unpacked) {
    std::vector<std::string> tags, digests;
    for (const auto& ref : refs)
      (ref.find('@') != std::string::npos ? digests : tags).push_back(ref);
    BERTH_ASSIGN_OR_RETURN(ImageRecord stored, Record(std::move(record), tags, digests));
    spdlog::info("imported image {} from {}{}", stored.id, path,
                 tags.empty() ? "" : " as " + tags.front());
    imported.push_back(std::move(stored));
  }
  return imported;
}

}  // namespace berth::image
