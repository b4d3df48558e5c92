#include "cri/streaming/spdy_frame.h"

#include <string>

namespace berth::streaming::spdy {
namespace {

uint32_t ReadU32(std::string_view bytes, size_t offset) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void AppendU32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

// Flags (8 bits) and length (24 bits), the second word of every frame header.
void AppendFlagsLength(std::string& out, uint8_t flags, size_t length) {
  AppendU32(out, (static_cast<uint32_t>(flags) << 24) | static_cast<uint32_t>(length & 0xffffff));
}

Error Malformed(std::string_view what) {
  return InvalidArgument("malformed SPDY frame: " + std::string(what));
}

Result<Frame> DecodeControl(const FrameHeader& header, std::string_view p) {
  Frame frame;
  frame.type = header.type;
  frame.flags = header.flags;
  auto need_exact = [&](size_t n, const char* name) -> Result<void> {
    if (p.size() != n)
      return Malformed(std::string(name) + " has length " + std::to_string(p.size()));
    return Ok();
  };
  auto stream_id_at = [&](size_t offset) { return ReadU32(p, offset) & kMaxStreamId; };
  switch (header.type) {
    case FrameType::kSynStream:
      if (p.size() < 10) return Malformed("SYN_STREAM shorter than 10 bytes");
      frame.stream_id = stream_id_at(0);
      frame.associated_stream_id = stream_id_at(4);
      frame.priority = static_cast<uint8_t>(static_cast<uint8_t>(p[8]) >> 5);
      frame.header_block.assign(p.substr(10));
      if (frame.stream_id == 0) return Malformed("SYN_STREAM for stream 0");
      return frame;
    case FrameType::kSynReply:
    case FrameType::kHeaders:
      if (p.size() < 4) return Malformed("SYN_REPLY/HEADERS shorter than 4 bytes");
      frame.stream_id = stream_id_at(0);
      frame.header_block.assign(p.substr(4));
      if (frame.stream_id == 0) return Malformed("SYN_REPLY/HEADERS for stream 0");
      return frame;
    case FrameType::kRstStream:
      BERTH_TRY(need_exact(8, "RST_STREAM"));
      frame.stream_id = stream_id_at(0);
      frame.status = ReadU32(p, 4);
      return frame;
    case FrameType::kSettings: {
      if (p.size() < 4) return Malformed("SETTINGS shorter than 4 bytes");
      uint32_t count = ReadU32(p, 0);
      if (count > (p.size() - 4) / 8 || p.size() != 4 + static_cast<size_t>(count) * 8) {
        return Malformed("SETTINGS entry count " + std::to_string(count) +
                         " does not match its length");
      }
      for (uint32_t i = 0; i < count; ++i) {
        frame.settings.emplace_back(ReadU32(p, 4 + i * 8) & 0xffffff, ReadU32(p, 8 + i * 8));
      }
      return frame;
    }
    case FrameType::kPing:
      BERTH_TRY(need_exact(4, "PING"));
      frame.ping_id = ReadU32(p, 0);
      return frame;
    case FrameType::kGoAway:
      BERTH_TRY(need_exact(8, "GOAWAY"));
      frame.last_good_stream_id = stream_id_at(0);
      frame.status = ReadU32(p, 4);
      return frame;
    case FrameType::kWindowUpdate:
      BERTH_TRY(need_exact(8, "WINDOW_UPDATE"));
      frame.stream_id = stream_id_at(0);
      frame.delta_window = ReadU32(p, 4) & 0x7fffffff;
      if (frame.delta_window == 0) return Malformed("WINDOW_UPDATE with delta 0");
      return frame;
    default: frame.type = FrameType::kUnknown; return frame;
  }
}

}  // namespace

FrameHeader ParseFrameHeader(const uint8_t b[kFrameHeaderSize]) {
  FrameHeader header;
  uint32_t first = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  header.control = (first & 0x80000000u) != 0;
  if (header.control) {
    header.version = static_cast<uint16_t>((first >> 16) & 0x7fff);
    uint16_t type = static_cast<uint16_t>(first & 0xffff);
    switch (type) {
      case 1:
      case 2:
      case 3:
      case 4:
      case 6:
      case 7:
      case 8:
      case 9: header.type = static_cast<FrameType>(type); break;
      default: header.type = FrameType::kUnknown;
    }
  } else {
    header.type = FrameType::kData;
    header.stream_id = first & kMaxStreamId;
  }
  header.flags = b[4];
  header.length = (uint32_t{b[5]} << 16) | (uint32_t{b[6]} << 8) | b[7];
  return header;
}

Result<Frame> DecodeFrame(const FrameHeader& header, std::string_view payload) {
  if (payload.size() != header.length)
    return Malformed("payload size differs from the header's length");
  if (header.control) {
    if (header.version != kVersion) {
      return Malformed("unsupported SPDY version " + std::to_string(header.version));
    }
    return DecodeControl(header, payload);
  }
  if (header.stream_id == 0) return Malformed("DATA for stream 0");
  Frame frame;
  frame.type = FrameType::kData;
  frame.flags = header.flags;
  frame.stream_id = header.stream_id;
  frame.data.assign(payload);
  return frame;
}

std::string EncodeFrame(const Frame& frame) {
  std::string out;
  if (frame.type == FrameType::kData) {
    out.reserve(kFrameHeaderSize + frame.data.size());
    AppendU32(out, frame.stream_id & kMaxStreamId);
    AppendFlagsLength(out, frame.flags, frame.data.size());
    out += frame.data;
    return out;
  }
  std::string payload;
  switch (frame.type) {
    case FrameType::kSynStream:
      AppendU32(payload, frame.stream_id & kMaxStreamId);
      AppendU32(payload, frame.associated_stream_id & kMaxStreamId);
      payload.push_back(static_cast<char>((frame.priority & 0x7) << 5));
      payload.push_back(0);  // slot
      payload += frame.header_block;
      break;
    case FrameType::kSynReply:
    case FrameType::kHeaders:
      AppendU32(payload, frame.stream_id & kMaxStreamId);
      payload += frame.header_block;
      break;
    case FrameType::kRstStream:
      AppendU32(payload, frame.stream_id & kMaxStreamId);
      AppendU32(payload, frame.status);
      break;
    case FrameType::kSettings:
      AppendU32(payload, static_cast<uint32_t>(frame.settings.size()));
      for (const auto& [id, value] : frame.settings) {
        AppendU32(payload, id & 0xffffff);  // flags 0
        AppendU32(payload, value);
      }
      break;
    case FrameType::kPing: AppendU32(payload, frame.ping_id); break;
    case FrameType::kGoAway:
      AppendU32(payload, frame.last_good_stream_id & kMaxStreamId);
      AppendU32(payload, frame.status);
      break;
    case FrameType::kWindowUpdate:
      AppendU32(payload, frame.stream_id & kMaxStreamId);
      AppendU32(payload, frame.delta_window & 0x7fffffff);
      break;
    default: break;
  }
  out.reserve(kFrameHeaderSize + payload.size());
  AppendU32(out, 0x80000000u | (uint32_t{kVersion} << 16) | static_cast<uint16_t>(frame.type));
  AppendFlagsLength(out, frame.flags, payload.size());
  out += payload;
  return out;
}

Frame DataFrame(uint32_t stream_id, std::string data, bool fin) {
  Frame frame;
  frame.stream_id = stream_id;
  frame.data = std::move(data);
  frame.flags = fin ? kFlagFin : 0;
  return frame;
}

Frame RstStreamFrame(uint32_t stream_id, uint32_t status) {
  Frame frame;
  frame.type = FrameType::kRstStream;
  frame.stream_id = stream_id;
  frame.status = status;
  return frame;
}

Frame WindowUpdateFrame(uint32_t stream_id, uint32_t delta) {
  Frame frame;
  frame.type = FrameType::kWindowUpdate;
  frame.stream_id = stream_id;
  frame.delta_window = delta;
  return frame;
}

Frame PingFrame(uint32_t id) {
  Frame frame;
  frame.type = FrameType::kPing;
  frame.ping_id = id;
  return frame;
}

Frame GoAwayFrame(uint32_t last_good_stream_id, uint32_t status) {
  Frame frame;
  frame.type = FrameType::kGoAway;
  frame.last_good_stream_id = last_good_stream_id;
  frame.status = status;
  return frame;
}

}  // namespace berth::streaming::spdy
