// Where an image's manifests and blobs come from: a registry (PullImage) or a local OCI layout or
// archive (berthctl import). The unpacker treats every byte it gets from a provider as untrusted
// and checks digests itself.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/digest.h"
#include "image/manifest.h"

namespace berth::image {

struct ManifestBytes {
  std::string media_type;  // as the source labelled it; may be empty
  std::string content;
  Digest digest;  // of `content`
};

using BlobSink = std::function<Result<void>(std::string_view chunk)>;

class ContentProvider {
 public:
  virtual ~ContentProvider() = default;
  // A manifest or index by digest (an index entry).
  virtual Result<ManifestBytes> FetchManifest(const Descriptor& descriptor) = 0;
  // Streams a blob to `sink`.
  virtual Result<void> FetchBlob(const Descriptor& descriptor, const BlobSink& sink) = 0;
  // Names the source in messages: "registry http://127.0.0.1:5000", "layout /tmp/x".
  virtual std::string Describe() const = 0;
};

}  // namespace berth::image
