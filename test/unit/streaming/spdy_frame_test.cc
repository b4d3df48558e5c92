#include "cri/streaming/spdy_frame.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "cri/streaming/spdy_header_block.h"

namespace berth::streaming::spdy {
namespace {

Result<Frame> RoundTrip(const Frame& frame) {
  std::string wire = EncodeFrame(frame);
  FrameHeader header = ParseFrameHeader(reinterpret_cast<const uint8_t*>(wire.data()));
  return DecodeFrame(header, std::string_view(wire).substr(kFrameHeaderSize));
}

Result<Frame> DecodeBytes(std::string wire) {
  FrameHeader header = ParseFrameHeader(reinterpret_cast<const uint8_t*>(wire.data()));
  return DecodeFrame(header, std::string_view(wire).substr(kFrameHeaderSize));
}

TEST(SpdyFrameTest, DataRoundTrip) {
  auto frame = RoundTrip(DataFrame(5, "hello", true));
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->type, FrameType::kData);
  EXPECT_EQ(frame->stream_id, 5u);
  EXPECT_EQ(frame->flags, kFlagFin);
  EXPECT_EQ(frame->data, "hello");
}

TEST(SpdyFrameTest, ControlFramesRoundTrip) {
  Frame syn;
  syn.type = FrameType::kSynStream;
  syn.stream_id = 7;
  syn.associated_stream_id = 3;
  syn.priority = 5;
  syn.flags = kFlagFin;
  syn.header_block = "compressed";
  auto got = RoundTrip(syn);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->stream_id, 7u);
  EXPECT_EQ(got->associated_stream_id, 3u);
  EXPECT_EQ(got->priority, 5);
  EXPECT_EQ(got->header_block, "compressed");

  got = RoundTrip(RstStreamFrame(9, kCancel));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, kCancel);
  got = RoundTrip(WindowUpdateFrame(9, 4096));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->delta_window, 4096u);
  got = RoundTrip(PingFrame(42));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->ping_id, 42u);
  got = RoundTrip(GoAwayFrame(11, 0));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->last_good_stream_id, 11u);

  Frame settings;
  settings.type = FrameType::kSettings;
  settings.settings = {{kSettingsInitialWindowSize, 65536}, {kSettingsMaxConcurrentStreams, 100}};
  got = RoundTrip(settings);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->settings, settings.settings);
}

TEST(SpdyFrameTest, PingWireBytes) {
  // Control bit, version 3, type 6, flags 0, length 4, id 1.
  EXPECT_EQ(EncodeFrame(PingFrame(1)),
            std::string("\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12));
}

TEST(SpdyFrameTest, HostileFramesAreRejected) {
  // Wrong version.
  EXPECT_FALSE(
      DecodeBytes(std::string("\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12)).ok());
  // PING with 3 bytes.
  EXPECT_FALSE(DecodeBytes(std::string("\x80\x03\x00\x06\x00\x00\x00\x03\x00\x00\x01", 11)).ok());
  // SETTINGS claiming a million entries in 12 bytes.
  EXPECT_FALSE(
      DecodeBytes(
          std::string(
              "\x80\x03\x00\x04\x00\x00\x00\x0c\x00\x0f\x42\x40\x00\x00\x00\x07\x00\x01\x00\x00",
              20))
          .ok());
  // SYN_STREAM for stream 0, and one too short to hold its fixed fields.
  EXPECT_FALSE(
      DecodeBytes(
          std::string("\x80\x03\x00\x01\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
                      18))
          .ok());
  EXPECT_FALSE(
      DecodeBytes(std::string("\x80\x03\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01", 12)).ok());
  // WINDOW_UPDATE of 0, DATA for stream 0.
  EXPECT_FALSE(
      DecodeBytes(
          std::string("\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x00", 16))
          .ok());
  EXPECT_FALSE(DecodeBytes(std::string("\x00\x00\x00\x00\x00\x00\x00\x01x", 9)).ok());
  // An unknown control type is not an error: the spec says ignore it.
  auto unknown = DecodeBytes(std::string("\x80\x03\x00\x0a\x00\x00\x00\x00", 8));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->type, FrameType::kUnknown);
  // The frame length field can announce up to 16 MiB; the header parse reports it for the caller
  // to refuse before reading.
  FrameHeader big =
      ParseFrameHeader(reinterpret_cast<const uint8_t*>("\x00\x00\x00\x01\x00\xff\xff\xff"));
  EXPECT_GT(big.length, kMaxFramePayload);
}

TEST(SpdyHeaderBlockTest, DictionaryIsTheSpecsOne) {
  std::string_view dict = HeaderDictionary();
  EXPECT_EQ(dict.size(), 1423u);
  EXPECT_EQ(adler32(1, reinterpret_cast<const Bytef*>(dict.data()), static_cast<uInt>(dict.size())),
            0xe3c6a7c2u);
}

TEST(SpdyHeaderBlockTest, CompressionRoundTripKeepsState) {
  HeaderCompressor compressor;
  HeaderDecompressor decompressor;
  for (int i = 0; i < 3; ++i) {
    HeaderList headers = {{"streamtype", "stdout"},
                          {"port", std::to_string(8080 + i)},
                          {"multi", std::string("a\0b", 3)}};
    auto block = compressor.Compress(headers);
    ASSERT_TRUE(block.ok());
    auto decoded = decompressor.Decompress(*block);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(*decoded, headers);
    EXPECT_EQ(FindHeader(*decoded, "streamType"), "stdout");
    EXPECT_EQ(FindHeader(*decoded, "multi"), "a");
  }
}

TEST(SpdyHeaderBlockTest, DecompressesAKnownVector) {
  // Two blocks of one zlib stream, made with Python's zlib (level 9, the spec dictionary,
  // Z_SYNC_FLUSH): {streamtype: stdout, port: 8080}, then {streamtype: error}.
  const unsigned char first[] = {0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x02, 0xe5, 0x0e, 0x70, 0x3a,
                                 0x2b, 0x29, 0x4a, 0x4d, 0xcc, 0x85, 0x16, 0x25, 0xc0, 0x14, 0x9b,
                                 0x92, 0x0f, 0x2e, 0x88, 0x81, 0xe5, 0x72, 0x11, 0x98, 0xb6, 0x30,
                                 0xb0, 0x30, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff};
  const unsigned char second[] = {0x02, 0xd2, 0x8c, 0x18, 0x6a, 0x59, 0x53, 0x41,
                                  0x91, 0x02, 0x00, 0x00, 0x00, 0xff, 0xff};
  HeaderDecompressor decompressor;
  auto one = decompressor.Decompress({reinterpret_cast<const char*>(first), sizeof(first)});
  ASSERT_TRUE(one.ok()) << one.error().message();
  EXPECT_EQ(*one, (HeaderList{{"streamtype", "stdout"}, {"port", "8080"}}));
  auto two = decompressor.Decompress({reinterpret_cast<const char*>(second), sizeof(second)});
  ASSERT_TRUE(two.ok()) << two.error().message();
  EXPECT_EQ(*two, (HeaderList{{"streamtype", "error"}}));
}

TEST(SpdyHeaderBlockTest, HostileBlocksAreRejected) {
  auto raw = [](std::initializer_list<unsigned char> bytes) {
    return std::string(bytes.begin(), bytes.end());
  };
  EXPECT_FALSE(DecodeHeaderBlock(raw({0, 0, 0, 1, 0, 0, 0, 5, 'a'})).ok());  // truncated name
  EXPECT_FALSE(DecodeHeaderBlock(raw({0xff, 0xff, 0xff, 0xff})).ok());       // huge count
  EXPECT_FALSE(
      DecodeHeaderBlock(raw({0, 0, 0, 1, 0, 0, 0, 1, 'A', 0, 0, 0, 0})).ok());  // uppercase
  EXPECT_FALSE(
      DecodeHeaderBlock(raw({0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 0, 0}))
          .ok());
  EXPECT_FALSE(DecodeHeaderBlock(raw({0, 0, 0, 0, 'x'})).ok());  // trailing bytes
  HeaderDecompressor garbage;
  EXPECT_FALSE(garbage.Decompress("not zlib at all").ok());

  // A zlib bomb: a small block that inflates past the 64 KiB bound.
  std::string big = EncodeHeaderBlock({{"x", std::string(200000, 'a')}});
  z_stream zs{};
  ASSERT_EQ(deflateInit(&zs, 9), Z_OK);
  std::string_view dict = HeaderDictionary();
  deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(dict.data()),
                       static_cast<uInt>(dict.size()));
  std::string out(big.size(), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(big.data());
  zs.avail_in = static_cast<uInt>(big.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  ASSERT_EQ(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  EXPECT_LT(out.size(), 4096u);
  HeaderDecompressor bomb;
  EXPECT_FALSE(bomb.Decompress(out).ok());
}

}  // namespace
}  // namespace berth::streaming::spdy
