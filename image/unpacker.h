// Turns a root manifest (an index or an image manifest) from a ContentProvider into an image:
// chooses the node's platform, stores manifests and config in the content store, downloads the
// missing layer blobs concurrently (bounded), unpacks each layer into its snapshot in order as
// soon as it and the layers below it are there, and checks every digest and diff_id on the way.
// Nothing is recorded until everything is in place; a failure leaves only whole, verified blobs
// and layers behind, which the next image reuses or garbage collection removes.
#pragma once

#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/result.h"
#include "base/single_flight.h"
#include "image/content_provider.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "image/manifest.h"
#include "image/snapshotter.h"

namespace berth::image {

struct UnpackContext {
  ContentStore& content;
  Snapshotter& snapshots;
  // Shared by all pulls of the daemon: one download per blob and one unpack per layer at a time.
  SingleFlight<Result<void>>& blob_flights;
  SingleFlight<Result<void>>& layer_flights;
  int max_concurrent_downloads = 3;
  Platform platform = HostPlatform();
};

// The image record for `root` (repo tags and digests are the caller's to fill in). Cancelling
// `cancel` (the unpacker does so itself on the first failure) stops the other downloads.
Result<ImageRecord> UnpackImage(const UnpackContext& context, ContentProvider& provider,
                                const ManifestBytes& root, const CancelToken& cancel);

}  // namespace berth::image
