// SPDY/3.1 frames (draft-mbelshe-httpbis-spdy-00 + the 3.1 flow-control changes): the in-memory
// form, the 8-byte frame header and the encode/decode of every frame type the streaming protocols
// use. Header blocks stay compressed here; spdy_header_block.h owns their (de)compression.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace berth::streaming::spdy {

enum class FrameType : uint16_t {
  kData = 0,
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
  kUnknown = 0xffff,  // a control frame type we do not know: the spec says ignore it
};

inline constexpr uint16_t kVersion = 3;
inline constexpr uint8_t kFlagFin = 0x01;
inline constexpr uint8_t kFlagUnidirectional = 0x02;
inline constexpr size_t kFrameHeaderSize = 8;
// Our bound on any one frame's payload (the wire allows 16 MiB). Kubernetes clients write DATA in
// 32 KiB pieces and header blocks of a few hundred bytes.
inline constexpr uint32_t kMaxFramePayload = 1 << 20;
inline constexpr uint32_t kMaxStreamId = 0x7fffffff;

enum RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

enum SettingId : uint32_t {
  kSettingsMaxConcurrentStreams = 4,
  kSettingsInitialWindowSize = 7,
};

struct FrameHeader {
  bool control = false;
  uint16_t version = 0;
  FrameType type = FrameType::kData;
  uint32_t stream_id = 0;  // DATA only
  uint8_t flags = 0;
  uint32_t length = 0;
};

struct Frame {
  FrameType type = FrameType::kData;
  uint8_t flags = 0;
  uint32_t stream_id = 0;  // DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
  uint32_t associated_stream_id = 0;                    // SYN_STREAM
  uint8_t priority = 0;                                 // SYN_STREAM, 3 bits
  uint32_t status = 0;                                  // RST_STREAM, GOAWAY
  uint32_t ping_id = 0;                                 // PING
  uint32_t last_good_stream_id = 0;                     // GOAWAY
  uint32_t delta_window = 0;                            // WINDOW_UPDATE
  std::vector<std::pair<uint32_t, uint32_t>> settings;  // SETTINGS: id -> value
  std::string header_block;  // SYN_STREAM, SYN_REPLY, HEADERS: still compressed
  std::string data;          // DATA payload
};

// The fixed 8 bytes in front of every frame. Never fails: a bad version or an oversized length is
// judged by the caller before it reads the payload.
FrameHeader ParseFrameHeader(const uint8_t bytes[kFrameHeaderSize]);

// The frame from its header and exactly `header.length` payload bytes. InvalidArgument when the
// payload does not fit the type (wrong fixed length, stream id 0 where one is required, ...).
Result<Frame> DecodeFrame(const FrameHeader& header, std::string_view payload);

// The wire bytes of a frame, header included.
std::string EncodeFrame(const Frame& frame);

// Convenience constructors.
Frame DataFrame(uint32_t stream_id, std::string data, bool fin);
Frame RstStreamFrame(uint32_t stream_id, uint32_t status);
Frame WindowUpdateFrame(uint32_t stream_id, uint32_t delta);
Frame PingFrame(uint32_t id);
Frame GoAwayFrame(uint32_t last_good_stream_id, uint32_t status);

}  // namespace berth::streaming::spdy
