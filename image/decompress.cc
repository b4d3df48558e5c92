#include "image/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace berth::image {
namespace {

constexpr size_t kInputBufferSize = 64 * 1024;
constexpr size_t kMagicSize = 4;

// Replays the bytes read for sniffing before reading on from the underlying source.
class ReplaySource : public ByteSource {
 public:
  ReplaySource(ByteSource& inner, std::string prefix) : inner_(inner), prefix_(std::move(prefix)) {}

  Result<size_t> Read(void* buffer, size_t size) override {
    if (offset_ < prefix_.size()) {
      const size_t count = std::min(size, prefix_.size() - offset_);
      std::memcpy(buffer, prefix_.data() + offset_, count);
      offset_ += count;
      return count;
    }
    return inner_.Read(buffer, size);
  }

 private:
  ByteSource& inner_;
  std::string prefix_;
  size_t offset_ = 0;
};

class GzipSource : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), input_(kInputBufferSize) {}
  ~GzipSource() override {
    if (initialized_) inflateEnd(&stream_);
  }

  Result<void> Init() {
    // 16 + MAX_WBITS: expect a gzip header and trailer (not raw deflate or zlib framing).
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) return Internal("initialize zlib");
    initialized_ = true;
    return Ok();
  }

  Result<size_t> Read(void* buffer, size_t size) override {
    while (true) {
      if (!member_done_) {
        stream_.next_out = static_cast<Bytef*>(buffer);
        stream_.avail_out = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
        const uInt before = stream_.avail_out;
        const int rc = inflate(&stream_, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
          member_done_ = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
          return InvalidArgument(std::string("corrupt gzip stream: ") +
                                 (stream_.msg != nullptr ? stream_.msg : "inflate failed"));
        }
        if (stream_.avail_out != before) return static_cast<size_t>(before - stream_.avail_out);
      }
      if (stream_.avail_in == 0) {
        BERTH_ASSIGN_OR_RETURN(const size_t got, inner_->Read(input_.data(), input_.size()));
        if (got == 0) {
          if (member_done_) return size_t{0};
          return InvalidArgument("truncated gzip stream");
        }
        stream_.next_in = input_.data();
        stream_.avail_in = static_cast<uInt>(got);
      }
      // More bytes after a member's trailer: the next member of a multi-member gzip file.
      if (member_done_) {
        inflateReset(&stream_);
        member_done_ = false;
      }
    }
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<Bytef> input_;
  z_stream stream_{};
  bool initialized_ = false;
  bool member_done_ = false;
};

class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), input_(kInputBufferSize), context_(ZSTD_createDCtx()) {}
  ~ZstdSource() override { ZSTD_freeDCtx(context_); }

  Result<void> Init() {
    if (context_ == nullptr) return Internal("initialize zstd");
    return Ok();
  }

  Result<size_t> Read(void* buffer, size_t size) override {
    while (true) {
      ZSTD_outBuffer out{buffer, size, 0};
      const size_t consumed_before = in_.pos;
      const size_t rc = ZSTD_decompressStream(context_, &out, &in_);
      if (ZSTD_isError(rc)) {
        return InvalidArgument(std::string("corrupt zstd stream: ") + ZSTD_getErrorName(rc));
      }
      // rc == 0: a frame ended and everything was flushed. Only progress tells us anything.
      if (out.pos > 0 || in_.pos != consumed_before) frame_complete_ = (rc == 0);
      if (out.pos > 0) return out.pos;
      if (in_.pos < in_.size) continue;
      BERTH_ASSIGN_OR_RETURN(const size_t got, inner_->Read(input_.data(), input_.size()));
      if (got == 0) {
        if (frame_complete_) return size_t{0};
        return InvalidArgument("truncated zstd stream");
      }
      in_ = ZSTD_inBuffer{input_.data(), got, 0};
    }
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<char> input_;
  ZSTD_DCtx* context_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool frame_complete_ = false;
};

// Reads until `want` bytes or the end of the stream.
Result<std::string> ReadPrefix(ByteSource& source, size_t want) {
  std::string prefix(want, '\0');
  size_t have = 0;
  while (have < want) {
    BERTH_ASSIGN_OR_RETURN(const size_t got, source.Read(prefix.data() + have, want - have));
    if (got == 0) break;
    have += got;
  }
  prefix.resize(have);
  return prefix;
}

}  // namespace

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

Compression DetectCompression(std::string_view first_bytes) {
  auto starts_with = [&](std::string_view magic) {
    return first_bytes.substr(0, magic.size()) == magic;
  };
  if (starts_with(std::string_view("\x1f\x8b", 2))) return Compression::kGzip;
  if (starts_with(std::string_view("\x28\xb5\x2f\xfd", 4))) return Compression::kZstd;
  return Compression::kNone;
}

Result<DecompressedSource> OpenDecompressed(ByteSource& compressed) {
  BERTH_ASSIGN_OR_RETURN(std::string prefix, ReadPrefix(compressed, kMagicSize));
  DecompressedSource result;
  result.compression = DetectCompression(prefix);
  auto replay = std::make_unique<ReplaySource>(compressed, std::move(prefix));
  switch (result.compression) {
    case Compression::kNone: result.source = std::move(replay); break;
    case Compression::kGzip: {
      auto gzip = std::make_unique<GzipSource>(std::move(replay));
      BERTH_TRY(gzip->Init());
      result.source = std::move(gzip);
      break;
    }
    case Compression::kZstd: {
      auto zstd = std::make_unique<ZstdSource>(std::move(replay));
      BERTH_TRY(zstd->Init());
      result.source = std::move(zstd);
      break;
    }
  }
  return result;
}

}  // namespace berth::image
