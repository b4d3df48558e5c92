#include "image/decompress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "test/unit/image/tar_builder.h"

namespace berth::image {
namespace {

// Hands out at most `chunk` bytes per Read, to exercise the decoders' buffering.
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string data, size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  Result<size_t> Read(void* buffer, size_t size) override {
    const size_t count = std::min({size, chunk_, data_.size() - offset_});
    std::memcpy(buffer, data_.data() + offset_, count);
    offset_ += count;
    return count;
  }

 private:
  std::string data_;
  size_t chunk_;
  size_t offset_ = 0;
};

Result<std::string> ReadAllFrom(ByteSource& source, size_t buffer_size) {
  std::string out;
  std::string buffer(buffer_size, '\0');
  while (true) {
    BERTH_ASSIGN_OR_RETURN(const size_t got, source.Read(buffer.data(), buffer.size()));
    if (got == 0) return out;
    out.append(buffer.data(), got);
  }
}

Result<std::string> Decompress(const std::string& blob, size_t chunk, size_t buffer_size,
                               Compression* detected = nullptr) {
  TrickleSource source(blob, chunk);
  BERTH_ASSIGN_OR_RETURN(DecompressedSource decompressed, OpenDecompressed(source));
  if (detected != nullptr) *detected = decompressed.compression;
  return ReadAllFrom(*decompressed.source, buffer_size);
}

std::string SampleData() {
  std::string data;
  for (int i = 0; i < 20000; ++i) data += "line " + std::to_string(i * 7919 % 10007) + "\n";
  return data;
}

TEST(DecompressTest, DetectsByMagic) {
  EXPECT_EQ(DetectCompression("\x1f\x8b\x08\x00"), Compression::kGzip);
  EXPECT_EQ(DetectCompression("\x28\xb5\x2f\xfd"), Compression::kZstd);
  EXPECT_EQ(DetectCompression("ustar"), Compression::kNone);
  EXPECT_EQ(DetectCompression(""), Compression::kNone);
  EXPECT_EQ(DetectCompression("\x1f"), Compression::kNone);
  EXPECT_EQ(CompressionName(Compression::kZstd), "zstd");
}

TEST(DecompressTest, RoundTripsWithAnyChunking) {
  const std::string data = SampleData();
  const std::vector<std::pair<std::string, Compression>> blobs = {
      {data, Compression::kNone},
      {testing::Gzip(data), Compression::kGzip},
      {testing::Zstd(data), Compression::kZstd},
      {testing::Gzip(data.substr(0, 1000)) + testing::Gzip(data.substr(1000)), Compression::kGzip},
      {testing::Zstd(data.substr(0, 1000)) + testing::Zstd(data.substr(1000)), Compression::kZstd},
  };
  for (const auto& [blob, compression] : blobs) {
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{4096}, size_t{1} << 20}) {
      for (size_t buffer_size : {size_t{1}, size_t{777}, size_t{65536}}) {
        if (chunk == 1 && buffer_size == 1 && blob.size() > 100000) continue;  // just slow
        Compression detected{};
        auto out = Decompress(blob, chunk, buffer_size, &detected);
        ASSERT_TRUE(out.ok()) << out.error().ToString();
        EXPECT_EQ(detected, compression);
        EXPECT_EQ(*out, data) << "chunk " << chunk << " buffer " << buffer_size;
      }
    }
  }
}

TEST(DecompressTest, EmptyCompressedPayloads) {
  auto gzip = Decompress(testing::Gzip(""), 4096, 4096);
  ASSERT_TRUE(gzip.ok()) << gzip.error().ToString();
  EXPECT_EQ(*gzip, "");
  auto zstd = Decompress(testing::Zstd(""), 4096, 4096);
  ASSERT_TRUE(zstd.ok()) << zstd.error().ToString();
  EXPECT_EQ(*zstd, "");
}

TEST(DecompressTest, TruncatedAndCorruptStreamsFail) {
  const std::string data = SampleData();
  const std::string gzip = testing::Gzip(data);
  const std::string zstd = testing::Zstd(data);
  std::string flipped = gzip;
  flipped[flipped.size() / 2] ^= 0x55;
  for (const std::string& bad : {gzip.substr(0, gzip.size() - 3), zstd.substr(0, zstd.size() - 3),
                                 gzip + "garbage", flipped, std::string("\x1f\x8b", 2)}) {
    auto out = Decompress(bad, 4096, 4096);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument) << out.error().ToString();
  }
}

}  // namespace
}  // namespace berth::image
