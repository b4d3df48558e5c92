#include "image/image_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "base/failpoint.h"
#include "image/unpacker.h"

namespace berth::image {
namespace {

void AddUnique(std::vector<std::string>& values, const std::string& value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

}  // namespace

Result<std::unique_ptr<ImageManager>> ImageManager::Open(const ImageManagerOptions& options,
                                                         MetadataStore& metadata,
                                                         RegistryOpener opener) {
  std::unique_ptr<ImageManager> manager(new ImageManager(options, metadata, std::move(opener)));
  BERTH_ASSIGN_OR_RETURN(manager->content_, ContentStore::Open(options.root + "/content"));
  BERTH_ASSIGN_OR_RETURN(manager->snapshots_, Snapshotter::Open(options.root + "/snapshots"));
  BERTH_TRY(manager->images_.Load());
  // What an interrupted pull or removal left behind goes now.
  BERTH_TRY(manager->CollectGarbage());
  return manager;
}

Result<ImageRecord> ImageManager::Pull(const std::string& text,
                                       const std::optional<RegistryAuth>& auth,
                                       const CancelToken& cancel) {
  auto reference = ParseReference(text);
  if (!reference) return reference.error();
  // A pull this one joined that ended with its own caller's cancellation or deadline is retried
  // under this caller's.
  auto pulled = pull_flights_.DoCancellable(reference->String(), cancel,
                                            [&] { return PullOnce(*reference, auth, cancel); });
  // A failed pull may have stored whole blobs (its manifest, config, some layers): free them now
  // unless other pulls are running (then the next collection does).
  if (!pulled) TryCollectGarbage();
  return pulled;
}

Result<ImageRecord> ImageManager::Unpack(ContentProvider& provider, const ManifestBytes& root,
                                         const CancelToken& cancel) {
  UnpackContext context{*content_,
                        *snapshots_,
                        blob_flights_,
                        layer_flights_,
                        options_.max_concurrent_downloads,
                        options_.platform};
  return UnpackImage(context, provider, root, cancel);
}

Result<ImageRecord> ImageManager::PullOnce(const Reference& reference,
                                           const std::optional<RegistryAuth>& auth,
                                           const CancelToken& cancel) {
  auto started = std::chrono::steady_clock::now();
  std::string name = reference.String();
  spdlog::info("pulling image {}", name);
  // A token of this pull's own: the unpacker cancels it to stop sibling downloads on failure.
  CancelToken pull_cancel(cancel.deadline());
  std::shared_lock gc_guard(gc_mutex_);
  auto opened = opener_(reference, auth, pull_cancel);
  if (!opened) return std::move(opened).error().Wrap("pull " + name);
  auto record = Unpack(*opened->provider, opened->root, pull_cancel);
  if (!record) return std::move(record).error().Wrap("pull " + name);
  BERTH_TRY(Failpoint("PullImage/unpacked"));
  std::vector<std::string> tags;
  if (!reference.tag.empty()) tags.push_back(reference.FullName() + ":" + reference.tag);
  std::vector<std::string> digests = {reference.FullName() + "@" + opened->root.digest.String()};
  auto recorded = Record(std::move(*record), tags, digests);
  if (!recorded) return std::move(recorded).error().Wrap("pull " + name);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("pulled image {} as {} ({:.1f} MB) in {:.3f} s from {}", name, recorded->id,
               recorded->size / 1e6, seconds, opened->provider->Describe());
  return recorded;
}

Result<ImageRecord> ImageManager::Record(ImageRecord record, const std::vector<std::string>& tags,
                                         const std::vector<std::string>& digests) {
  if (auto existing = images_.Get(record.id)) {
    record.repo_tags = existing->repo_tags;
    record.repo_digests = existing->repo_digests;
    record.pinned = existing->pinned;
    record.created_at_nanos = existing->created_at_nanos;
  }
  for (const auto& tag : tags) AddUnique(record.repo_tags, tag);
  for (const auto& digest : digests) AddUnique(record.repo_digests, digest);
  BERTH_TRY(images_.Put(record));
  return record;
}

Result<ImageConfig> ImageManager::Config(const ImageRecord& image) const {
  {
    std::lock_guard lock(config_mutex_);
    if (auto it = config_cache_.find(image.id); it != config_cache_.end()) return it->second;
  }
  BERTH_ASSIGN_OR_RETURN(std::string json, ConfigJson(image));
  BERTH_ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(json));
  std::lock_guard lock(config_mutex_);
  config_cache_[image.id] = config;
  return config;
}

Result<std::string> ImageManager::ConfigJson(const ImageRecord& image) const {
  return content_->Read(image.config_digest, kMaxConfigBytes);
}

Result<void> ImageManager::Remove(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(ImageRecord image, images_.Resolve(name));
  if (in_use_ && in_use_(image.id)) {
    return FailedPrecondition("image " + name + " (" + image.id +
                              ") is in use by a container; remove the container first");
  }
  BERTH_TRY(images_.Delete(image.id));
  {
    std::lock_guard lock(config_mutex_);
    config_cache_.erase(image.id);
  }
  spdlog::info("removed image {} ({})", name, image.id);
  return CollectGarbage();
}

Result<void> ImageManager::SetPinned(const std::string& id, bool pinned) {
  auto image = images_.Get(id);
  if (!image) return NotFound("image " + id + " not found");
  image->pinned = pinned;
  return images_.Put(*image);
}

void ImageManager::TryCollectGarbage() {
  std::unique_lock gc_guard(gc_mutex_, std::try_to_lock);
  if (!gc_guard.owns_lock()) return;
  if (auto collected = CollectGarbageLocked(); !collected) {
    spdlog::warn("garbage collection after a failed pull: {}", collected.error().message());
  }
}

Result<void> ImageManager::CollectGarbage() {
  std::unique_lock gc_guard(gc_mutex_);
  return CollectGarbageLocked();
}

Result<void> ImageManager::CollectGarbageLocked() {
  std::set<std::string> blobs;
  std::set<std::string> layers;
  for (const auto& image : images_.List()) {
    for (const Digest* digest :
         {&image.manifest_digest, &image.index_digest, &image.config_digest}) {
      if (!digest->empty()) blobs.insert(digest->String());
    }
    for (const auto& layer : image.layers) {
      blobs.insert(layer.blob.String());
      layers.insert(layer.chain_id.String());
    }
  }
  for (const auto& key : snapshots_->ListSnapshots()) {
    auto chain = snapshots_->SnapshotChain(key);
    if (!chain) continue;
    for (const auto& layer : *chain) layers.insert(layer.String());
  }
  BERTH_ASSIGN_OR_RETURN(auto stored, content_->List());
  size_t freed_blobs = 0, freed_layers = 0;
  for (const auto& digest : stored) {
    if (blobs.count(digest.String())) continue;
    BERTH_TRY(content_->Delete(digest));
    ++freed_blobs;
  }
  for (const auto& layer : snapshots_->ListLayers()) {
    if (layers.count(layer.String())) continue;
    BERTH_TRY(snapshots_->RemoveLayer(layer));
    ++freed_layers;
  }
  if (freed_blobs + freed_layers > 0) {
    spdlog::info("garbage collection freed {} blobs and {} layers", freed_blobs, freed_layers);
  }
  return Ok();
}

ImageUsage ImageManager::Usage() const {
  return {content_->Usage(), snapshots_->Usage()};
}

}  // namespace berth::image
