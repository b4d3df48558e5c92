#include "image/unpacker.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/failpoint.h"
#include "base/process_util.h"
#include "image/image_user.h"
#include "image/layer_extractor.h"

namespace berth::image {
namespace {

Result<void> CheckManifestDigest(const ManifestBytes& manifest, const Digest& expected) {
  Digest actual = ComputeDigest(manifest.content, expected.algorithm());
  if (!(actual == expected)) {
    return InvalidArgument("manifest digest mismatch: expected " + expected.String() + ", got " +
                           actual.String());
  }
  return Ok();
}

// Downloads one blob into the content store (once, however many pulls want it; when the pull
// whose download this one joined is cancelled, this pull downloads the blob itself).
Result<void> FetchToStore(const UnpackContext& context, ContentProvider& provider,
                          const Descriptor& descriptor, const CancelToken& cancel) {
  return context.blob_flights.DoCancellable(
      descriptor.digest.String(), cancel, [&]() -> Result<void> {
        if (context.content.Has(descriptor.digest)) return Ok();
        BERTH_TRY(cancel.Check("download"));
        BERTH_ASSIGN_OR_RETURN(auto writer,
                               context.content.Writer(descriptor.digest, descriptor.size));
        auto fetched = provider.FetchBlob(
            descriptor, [&](std::string_view chunk) { return writer->Write(chunk); });
        if (!fetched) return fetched;
        return writer->Commit();
      });
}

// Root manifest -> the platform's image manifest (with the index digest when there was one).
Result<ManifestBytes> ResolvePlatformManifest(const UnpackContext& context,
                                              ContentProvider& provider, const ManifestBytes& root,
                                              Digest* index_digest) {
  BERTH_ASSIGN_OR_RETURN(ManifestKind kind, ClassifyManifest(root.media_type, root.content));
  BERTH_TRY(context.content.WriteBlob(root.digest, root.content));
  if (kind == ManifestKind::kImage) return root;
  *index_digest = root.digest;
  BERTH_ASSIGN_OR_RETURN(ImageIndex index, ParseImageIndex(root.content));
  BERTH_ASSIGN_OR_RETURN(Descriptor chosen, SelectPlatform(index, context.platform));
  BERTH_ASSIGN_OR_RETURN(ManifestBytes manifest, provider.FetchManifest(chosen));
  BERTH_TRY(CheckManifestDigest(manifest, chosen.digest));
  manifest.digest = chosen.digest;
  if (manifest.media_type.empty()) manifest.media_type = chosen.media_type;
  BERTH_ASSIGN_OR_RETURN(ManifestKind inner,
                         ClassifyManifest(manifest.media_type, manifest.content));
  if (inner != ManifestKind::kImage) {
    return InvalidArgument("index entry " + chosen.digest.String() + " is not an image manifest");
  }
  BERTH_TRY(context.content.WriteBlob(manifest.digest, manifest.content));
  return manifest;
}

// Runs the layer downloads on a few threads; Wait(i) returns layer i's outcome. The first
// download to fail cancels the others (they are of no use any more), and that failure, not the
// cancellations it caused, is what every later Wait reports: a pull that ran out of disk is
// ResourceExhausted whichever layer met the full disk first, never Cancelled.
class LayerDownloads {
 public:
  LayerDownloads(const UnpackContext& context, ContentProvider& provider,
                 const std::vector<Descriptor>& layers, const std::vector<bool>& needed,
                 const CancelToken& cancel)
      : results_(layers.size()), first_failure_(std::make_shared<FirstFailure>()) {
    std::vector<size_t> queue;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (needed[i]) {
        queue.push_back(i);
      } else {
        std::promise<Result<void>> done;
        done.set_value(Ok());
        results_[i] = done.get_future();
      }
    }
    auto promises = std::make_shared<std::vector<std::promise<Result<void>>>>(queue.size());
    for (size_t k = 0; k < queue.size(); ++k) results_[queue[k]] = (*promises)[k].get_future();
    size_t workers = std::min<size_t>(queue.size(), std::max(1, context.max_concurrent_downloads));
    auto next = std::make_shared<std::atomic<size_t>>(0);
    auto first = first_failure_;
    for (size_t w = 0; w < workers; ++w) {
      threads_.emplace_back([&context, &provider, &layers, &cancel, queue, promises, next, first] {
        for (size_t k; (k = next->fetch_add(1)) < queue.size();) {
          const Descriptor& layer = layers[queue[k]];
          auto result = FetchToStore(context, provider, layer, cancel);
          if (!result) {
            Error error = std::move(result).error().Wrap("layer " + layer.digest.String());
            // Noted before the others are cancelled, so that their Wait finds it.
            if (error.code() != ErrorCode::kCancelled) first->Note(error);
            cancel.Cancel();
            result = std::move(error);
          }
          (*promises)[k].set_value(std::move(result));
        }
      });
    }
  }
  ~LayerDownloads() {
    for (auto& thread : threads_) thread.join();
  }
  Result<void> Wait(size_t index) {
    Result<void> result = results_[index].get();
    if (result.ok() || result.error().code() != ErrorCode::kCancelled) return result;
    if (auto cause = first_failure_->Get()) return *cause;
    return result;  // cancelled from outside (the caller's own token)
  }

 private:
  class FirstFailure {
   public:
    void Note(const Error& error) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = error;
    }
    std::optional<Error> Get() {
      std::lock_guard lock(mutex_);
      return error_;
    }

   private:
    std::mutex mutex_;
    std::optional<Error> error_;
  };

  std::vector<std::future<Result<void>>> results_;
  std::shared_ptr<FirstFailure> first_failure_;
  std::vector<std::thread> threads_;
};

// Applies layer `index` into its snapshot. The diff_id is checked before the snapshot is
// committed, so a layer directory never holds content other than what its chain ID names.
Result<ExtractStats> UnpackLayer(const UnpackContext& context, const std::vector<Digest>& chain,
                                 size_t index, const std::string& blob_path,
                                 const Digest& expected_diff_id) {
  ApplyOptions options;
  for (size_t lower = index; lower-- > 0;) {
    options.lower_dirs.push_back(context.snapshots.LayerDir(chain[lower]));
  }
  ExtractStats stats;
  BERTH_TRY(context.layer_flights.Do(chain[index].String(), [&]() -> Result<void> {
    if (context.snapshots.HasLayer(chain[index])) return Ok();
    return context.snapshots.CommitLayer(chain[index], [&](const std::string& dir) -> Result<void> {
      BERTH_ASSIGN_OR_RETURN(stats, ApplyLayerFile(blob_path, dir, options));
      if (!(stats.diff_id == expected_diff_id)) {
        return InvalidArgument("layer unpacks to diff_id " + stats.diff_id.String() +
                               " but the image config says " + expected_diff_id.String());
      }
      return Ok();
    });
  }));
  BERTH_TRY(Failpoint("PullImage/layer"));
  return stats;
}

}  // namespace

Result<ImageRecord> UnpackImage(const UnpackContext& context, ContentProvider& provider,
                                const ManifestBytes& root, const CancelToken& cancel) {
  ImageRecord record;
  BERTH_ASSIGN_OR_RETURN(ManifestBytes manifest_bytes,
                         ResolvePlatformManifest(context, provider, root, &record.index_digest));
  BERTH_ASSIGN_OR_RETURN(ImageManifest manifest, ParseImageManifest(manifest_bytes.content));
  record.manifest_digest = manifest_bytes.digest;
  record.config_digest = manifest.config.digest;
  record.id = manifest.config.digest.String();

  BERTH_TRY(FetchToStore(context, provider, manifest.config, cancel));
  BERTH_ASSIGN_OR_RETURN(std::string config_bytes,
                         context.content.Read(manifest.config.digest, kMaxConfigBytes));
  BERTH_ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_bytes));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return InvalidArgument("image config lists " + std::to_string(config.diff_ids.size()) +
                           " layers but the manifest has " +
                           std::to_string(manifest.layers.size()));
  }
  std::vector<Digest> chain = ChainIds(config.diff_ids);
  std::vector<bool> needed(chain.size());
  for (size_t i = 0; i < chain.size(); ++i) {
    needed[i] =
        !context.snapshots.HasLayer(chain[i]) && !context.content.Has(manifest.layers[i].digest);
  }

  record.size = static_cast<int64_t>(manifest_bytes.content.size()) + manifest.config.size;
  {
    LayerDownloads downloads(context, provider, manifest.layers, needed, cancel);
    for (size_t i = 0; i < chain.size(); ++i) {
      const Descriptor& layer = manifest.layers[i];
      record.size += layer.size;
      record.layers.push_back(
          {layer.digest, layer.size, layer.media_type, config.diff_ids[i], chain[i]});
      auto downloaded = downloads.Wait(i);
      if (!downloaded) {
        cancel.Cancel();
        return std::move(downloaded).error();
      }
      if (context.snapshots.HasLayer(chain[i])) continue;
      auto stats = UnpackLayer(context, chain, i, context.content.BlobPath(layer.digest),
                               config.diff_ids[i]);
      if (!stats) {
        cancel.Cancel();
        return std::move(stats).error().Wrap("unpack layer " + layer.digest.String());
      }
      spdlog::info("layer {}/{} {} unpacked ({:.1f} MB, {} entries)", i + 1, chain.size(),
                   layer.digest.String(), stats->tar_bytes / 1e6, stats->entries);
    }
  }
  ImageUser user = ResolveImageUser(config.user);
  record.uid = user.uid;
  record.username = user.username;
  record.created_at_nanos = NowUnixNanos();
  return record;
}

}  // namespace berth::image
