// Layer blob decompression. OCI layers are tar, tar+gzip or tar+zstd; the media type says which,
// but the bytes decide: like containerd we sniff the magic number, so a mislabelled blob still
// unpacks and the diff_id is always computed over the real tar.
#pragma once

#include <memory>
#include <string_view>

#include "base/result.h"
#include "image/byte_source.h"

namespace berth::image {

enum class Compression { kNone, kGzip, kZstd };

std::string_view CompressionName(Compression compression);

// Looks at the first bytes of a stream (4 are enough) and says how it is compressed; anything that
// is neither gzip nor zstd is taken as uncompressed.
Compression DetectCompression(std::string_view first_bytes);

struct DecompressedSource {
  std::unique_ptr<ByteSource> source;  // yields the uncompressed bytes
  Compression compression = Compression::kNone;
};

// Reads the first bytes of `compressed` to detect its compression and returns a source of the
// uncompressed stream. `compressed` is borrowed and must outlive the result. Concatenated gzip
// members and zstd frames are read as one stream; a truncated or corrupt stream, or trailing bytes
// that are not another member/frame, make Read fail with InvalidArgument.
Result<DecompressedSource> OpenDecompressed(ByteSource& compressed);

}  // namespace berth::image
