// Fuzz target: SPDY/3.1 frames and header blocks (cri/streaming/spdy_frame, spdy_header_block),
// as a streaming client sends them after the HTTP upgrade. The input is a run of wire frames,
// read the way the session reads them: 8-byte header, length bounded, then the payload. Header
// blocks go through one zlib stream with the SPDY dictionary, as in a session (a fresh one after
// an error, where a session would send GOAWAY), and through the uncompressed decoder directly.
// Whatever decodes must encode back to the same frame, and decoded headers must survive
// compression and encoding.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cri/streaming/spdy_frame.h"
#include "cri/streaming/spdy_header_block.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace berth::streaming::spdy;

bool SameFrame(const Frame& a, const Frame& b) {
  return a.type == b.type && a.flags == b.flags && a.stream_id == b.stream_id &&
         a.associated_stream_id == b.associated_stream_id && a.priority == b.priority &&
         a.status == b.status && a.ping_id == b.ping_id &&
         a.last_good_stream_id == b.last_good_stream_id && a.delta_window == b.delta_window &&
         a.settings == b.settings && a.header_block == b.header_block && a.data == b.data;
}

void CheckFrameRoundTrip(const Frame& frame) {
  const std::string wire = EncodeFrame(frame);
  BERTH_FUZZ_CHECK(wire.size() >= kFrameHeaderSize, "encoded frame without a header");
  FrameHeader header = ParseFrameHeader(reinterpret_cast<const uint8_t*>(wire.data()));
  std::string_view payload = std::string_view(wire).substr(kFrameHeaderSize);
  BERTH_FUZZ_CHECK(header.length == payload.size(), "encoded length differs from the payload");
  auto again = DecodeFrame(header, payload);
  BERTH_FUZZ_CHECK(again.ok(), "an encoded frame does not decode");
  BERTH_FUZZ_CHECK(SameFrame(frame, *again), "a frame changed through encode and decode");
}

void CheckHeaders(const HeaderList& headers) {
  auto decoded = DecodeHeaderBlock(EncodeHeaderBlock(headers));
  BERTH_FUZZ_CHECK(decoded.ok() && *decoded == headers, "headers changed through encoding");
  HeaderCompressor compressor;
  HeaderDecompressor decompressor;
  for (int round = 0; round < 2; ++round) {  // the second block reuses the zlib window
    auto compressed = compressor.Compress(headers);
    BERTH_FUZZ_CHECK(compressed.ok(), "compression failed");
    auto inflated = decompressor.Decompress(*compressed);
    BERTH_FUZZ_CHECK(inflated.ok() && *inflated == headers, "headers changed through zlib");
  }
  for (std::string_view name : {"streamtype", "port", "requestid", ":status"}) {
    (void)FindHeader(headers, name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decompressor = std::make_unique<HeaderDecompressor>();
  while (input.size() >= kFrameHeaderSize) {
    FrameHeader header = ParseFrameHeader(reinterpret_cast<const uint8_t*>(input.data()));
    input.remove_prefix(kFrameHeaderSize);
    if (header.length > kMaxFramePayload || header.length > input.size()) break;
    std::string_view payload = input.substr(0, header.length);
    input.remove_prefix(header.length);
    auto frame = DecodeFrame(header, payload);
    if (!frame.ok()) continue;
    CheckFrameRoundTrip(*frame);
    if (frame->type != FrameType::kSynStream && frame->type != FrameType::kSynReply &&
        frame->type != FrameType::kHeaders) {
      continue;
    }
    if (auto raw = DecodeHeaderBlock(frame->header_block); raw.ok()) CheckHeaders(*raw);
    auto headers = decompressor->Decompress(frame->header_block);
    if (headers.ok()) {
      CheckHeaders(*headers);
    } else {
      decompressor = std::make_unique<HeaderDecompressor>();
    }
  }
  return 0;
}
