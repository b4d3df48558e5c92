// Image records: what PullImage / import produced, kept in the metadata store (kind "image") and
// in memory for lookups by ID, ID prefix, repo tag or repo digest.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/digest.h"
#include "store/metadata_store.h"

namespace berth::image {

struct LayerRecord {
  Digest blob;  // the (compressed) blob in the content store
  int64_t size = 0;
  std::string media_type;
  Digest diff_id;
  Digest chain_id;  // the layer's snapshot
};

struct ImageRecord {
  std::string id;                         // "sha256:<config digest>", the image ID
  std::vector<std::string> repo_tags;     // "docker.io/library/busybox:latest"
  std::vector<std::string> repo_digests;  // "docker.io/library/busybox@sha256:<manifest>"
  Digest manifest_digest;                 // the platform manifest
  Digest index_digest;                    // the index it was chosen from, when there was one
  Digest config_digest;
  std::vector<LayerRecord> layers;
  int64_t size = 0;  // manifest + config + compressed layers
  // The config's USER as kubelet wants it: a uid (numeric, or named and found in the image's
  // /etc/passwd) or else the name.
  std::optional<int64_t> uid;
  std::string username;
  bool pinned = false;
  int64_t created_at_nanos = 0;
};

std::string ImageRecordToJson(const ImageRecord& record);
Result<ImageRecord> ImageRecordFromJson(const std::string& json);

class ImageStore {
 public:
  explicit ImageStore(MetadataStore& metadata) : metadata_(metadata) {}

  // Reads every record from the metadata store.
  Result<void> Load();

  // Adds or replaces `record`. Its repo tags are taken away from every other image (a tag names
  // one image). Images left with no tag and no digest stay, as "<none>" images, until removed.
  Result<void> Put(const ImageRecord& record);
  Result<void> Delete(const std::string& id);

  // An image by ID ("sha256:<hex>", "<hex>" or a unique hex prefix), repo tag (any form a user
  // writes: "busybox", "busybox:1.36", "docker.io/library/busybox:latest") or repo digest.
  // NotFound when nothing matches; an ambiguous prefix is InvalidArgument.
  Result<ImageRecord> Resolve(const std::string& name) const;
  std::optional<ImageRecord> Get(const std::string& id) const;
  std::vector<ImageRecord> List() const;

 private:
  MetadataStore& metadata_;
  mutable std::mutex mutex_;
  std::map<std::string, ImageRecord> images_;  // by ID
};

}  // namespace berth::image
