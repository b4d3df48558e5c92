// The image service of berth, below the CRI: pull, import, look up, list, remove and garbage
// collect images, and report disk usage. cri/image_*.cc translate the CRI to and from it; pod/
// uses Resolve, Config and the snapshotter to build container root filesystems.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/cancel.h"
#include "base/result.h"
#include "base/single_flight.h"
#include "config/config.h"
#include "image/content_provider.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/snapshotter.h"
#include "store/metadata_store.h"

namespace berth::image {

// Opens a registry for `reference` and fetches the manifest or index it names (by tag or digest).
struct RegistryOpening {
  std::unique_ptr<ContentProvider> provider;
  ManifestBytes root;
};
using RegistryOpener = std::function<Result<RegistryOpening>(
    const Reference& reference, const std::optional<RegistryAuth>& auth,
    const CancelToken& cancel)>;

struct ImageManagerOptions {
  std::string root;  // <root>/content and <root>/snapshots live here
  int max_concurrent_downloads = 3;
  Platform platform = HostPlatform();
};

struct ImageUsage {
  DiskUsage content;
  DiskUsage snapshots;
};

class ImageManager {
 public:
  static Result<std::unique_ptr<ImageManager>> Open(const ImageManagerOptions& options,
                                                    MetadataStore& metadata, RegistryOpener opener);

  // Pulls `reference` (any form kubelet or crictl writes) and returns the image. Concurrent pulls
  // of the same reference share one pull.
  Result<ImageRecord> Pull(const std::string& reference, const std::optional<RegistryAuth>& auth,
                           const CancelToken& cancel);
  // Loads an OCI layout directory or an OCI archive (tar of a layout). Images are named by their
  // io.containerd.image.name / org.opencontainers.image.ref.name annotations, or by `name` when
  // given (which then applies to the one image the layout holds).
  Result<std::vector<ImageRecord>> Import(const std::string& path, const std::string& name,
                                          const CancelToken& cancel);

  Result<ImageRecord> Resolve(const std::string& name) const { return images_.Resolve(name); }
  std::vector<ImageRecord> List() const { return images_.List(); }
  Result<ImageConfig> Config(const ImageRecord& image) const;
  // The raw config JSON (for verbose ImageStatus).
  Result<std::string> ConfigJson(const ImageRecord& image) const;

  // Removes the image `name` names (all its tags and digests) and frees what no other image uses.
  // An image a container uses is FailedPrecondition. A name that matches nothing is NotFound.
  Result<void> Remove(const std::string& name);
  // Marks an image pinned (never removed by kubelet's image GC).
  Result<void> SetPinned(const std::string& id, bool pinned);
  // Deletes blobs and layers no image or snapshot references.
  Result<void> CollectGarbage();

  // Set by pod/: whether a container uses image `id` (then it cannot be removed).
  void SetInUseCheck(std::function<bool(const std::string& id)> in_use) {
    in_use_ = std::move(in_use);
  }

  ContentStore& content() { return *content_; }
  Snapshotter& snapshots() { return *snapshots_; }
  ImageUsage Usage() const;
  const std::string& root() const { return options_.root; }

 private:
  ImageManager(ImageManagerOptions options, MetadataStore& metadata, RegistryOpener opener)
      : options_(std::move(options)), images_(metadata), opener_(std::move(opener)) {}
  Result<ImageRecord> PullOnce(const Reference& reference, const std::optional<RegistryAuth>& auth,
                               const CancelToken& cancel);
  // Records `record` under `tags` and `digests`, merged with what an existing record has.
  Result<ImageRecord> Record(ImageRecord record, const std::vector<std::string>& tags,
                             const std::vector<std::string>& digests);
  Result<ImageRecord> Unpack(ContentProvider& provider, const ManifestBytes& root,
                             const CancelToken& cancel);
  // Import's two formats (image_import.cc): each image unpacked, with the references (tags, and
  // digests with '@') it is to be recorded under. `path` is what the caller named, for messages.
  struct ImportedImage {
    std::vector<std::string> refs;
    ImageRecord record;
  };
  Result<std::vector<ImportedImage>> ImportLayout(const std::string& dir, const std::string& path,
                                                  const std::string& name,
                                                  const CancelToken& cancel);
  Result<std::vector<ImportedImage>> ImportDockerArchive(const std::string& dir,
                                                         const std::string& path,
                                                         const std::string& name,
                                                         const CancelToken& cancel);
  // Collects now if no pull or import is running, else leaves it to the next collection.
  void TryCollectGarbage();
  Result<void> CollectGarbageLocked();  // caller holds gc_mutex_ exclusively

  ImageManagerOptions options_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<Snapshotter> snapshots_;
  ImageStore images_;
  RegistryOpener opener_;
  std::function<bool(const std::string&)> in_use_;
  SingleFlight<Result<ImageRecord>> pull_flights_;
  SingleFlight<Result<void>> blob_flights_;
  SingleFlight<Result<void>> layer_flights_;
  // Pulls and imports hold it shared; garbage collection exclusively, so it never deletes what a
  // pull has fetched but not recorded yet.
  mutable std::shared_mutex gc_mutex_;
  mutable std::mutex config_mutex_;
  mutable std::map<std::string, ImageConfig> config_cache_;
};

}  // namespace berth::image
