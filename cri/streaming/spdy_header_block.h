// SPDY/3 header blocks: the name/value list format and its zlib compression with the spec's
// dictionary. Each direction of a session is one zlib stream (one compressor for what we send,
// one decompressor for what we receive), flushed with Z_SYNC_FLUSH after every block.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace berth::streaming::spdy {

// Names are lowercase on the wire; a value holding several values separates them with NUL.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Bounds on what a peer may make us hold: the decompressed block, and the number of pairs.
inline constexpr size_t kMaxHeaderBlockSize = 64 * 1024;
inline constexpr size_t kMaxHeaderCount = 128;

// The SPDY/3 compression dictionary (1423 bytes, zlib dictionary id 0xe3c6a7c2).
std::string_view HeaderDictionary();

// The uncompressed block: count, then length-prefixed name and value of each pair.
std::string EncodeHeaderBlock(const HeaderList& headers);
// InvalidArgument for a truncated block, an empty or uppercase name, a duplicate name, or a
// block past the bounds above.
Result<HeaderList> DecodeHeaderBlock(std::string_view raw);

// The first value of `name` (compared case-insensitively), empty when absent.
std::string FindHeader(const HeaderList& headers, std::string_view name);

class HeaderCompressor {
 public:
  HeaderCompressor();
  ~HeaderCompressor();
  HeaderCompressor(const HeaderCompressor&) = delete;
  HeaderCompressor& operator=(const HeaderCompressor&) = delete;

  Result<std::string> Compress(const HeaderList& headers);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class HeaderDecompressor {
 public:
  HeaderDecompressor();
  ~HeaderDecompressor();
  HeaderDecompressor(const HeaderDecompressor&) = delete;
  HeaderDecompressor& operator=(const HeaderDecompressor&) = delete;

  // Any error leaves the zlib stream unusable: the session must end (GOAWAY).
  Result<HeaderList> Decompress(std::string_view block);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace berth::streaming::spdy
