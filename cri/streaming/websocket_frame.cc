#include "cri/streaming/websocket_frame.h"

namespace berth::streaming::websocket {
namespace {

Error Malformed(std::string_view what) {
  return InvalidArgument("malformed WebSocket frame: " + std::string(what));
}

bool IsKnown(uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);
}

}  // namespace

std::string EncodeFrame(Opcode opcode, std::string_view payload, bool fin,
                        const std::optional<std::array<uint8_t, 4>>& mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode)));
  uint8_t mask_bit = mask ? 0x80 : 0;
  uint64_t length = payload.size();
  if (length < 126) {
    out.push_back(static_cast<char>(mask_bit | length));
  } else if (length <= 0xffff) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  }
  if (!mask) {
    out += payload;
    return out;
  }
  out.append(reinterpret_cast<const char*>(mask->data()), 4);
  size_t start = out.size();
  out.append(payload);
  // In place over the copied payload (a loop the compiler vectorises; push_back per byte was the
  // WebSocket upload's bottleneck).
  char* data = out.data() + start;
  for (size_t i = 0; i < payload.size(); ++i) data[i] = static_cast<char>(data[i] ^ (*mask)[i & 3]);
  return out;
}

Result<std::optional<Frame>> FrameParser::Parse(std::string_view buffer, size_t& consumed) const {
  consumed = 0;
  if (buffer.size() < 2) return std::optional<Frame>();
  uint8_t b0 = static_cast<uint8_t>(buffer[0]), b1 = static_cast<uint8_t>(buffer[1]);
  if (b0 & 0x70) return Malformed("reserved bits set (no extension was negotiated)");
  uint8_t opcode = b0 & 0x0f;
  if (!IsKnown(opcode)) return Malformed("unknown opcode " + std::to_string(opcode));
  bool fin = (b0 & 0x80) != 0;
  bool masked = (b1 & 0x80) != 0;
  if (masked != expect_masked_)
    return Malformed(expect_masked_ ? "client frame not masked" : "server frame masked");
  uint64_t length = b1 & 0x7f;
  size_t pos = 2;
  if (length == 126 || length == 127) {
    size_t bytes = length == 126 ? 2 : 8;
    if (buffer.size() < pos + bytes) return std::optional<Frame>();
    length = 0;
    for (size_t i = 0; i < bytes; ++i)
      length = (length << 8) | static_cast<uint8_t>(buffer[pos + i]);
    pos += bytes;
    if (bytes == 8 && (length >> 63) != 0) return Malformed("64-bit length with the top bit set");
  }
  bool control = opcode >= 0x8;
  if (control && (!fin || length > 125)) return Malformed("fragmented or oversized control frame");
  if (length > max_payload_)
    return Malformed("payload of " + std::to_string(length) + " bytes exceeds the bound");
  std::array<uint8_t, 4> mask{};
  if (masked) {
    if (buffer.size() < pos + 4) return std::optional<Frame>();
    for (size_t i = 0; i < 4; ++i) mask[i] = static_cast<uint8_t>(buffer[pos + i]);
    pos += 4;
  }
  if (buffer.size() - pos < length) return std::optional<Frame>();
  Frame frame;
  frame.fin = fin;
  frame.opcode = static_cast<Opcode>(opcode);
  frame.payload.assign(buffer.substr(pos, length));
  if (masked) {
    char* data = frame.payload.data();
    for (size_t i = 0; i < frame.payload.size(); ++i)
      data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
  }
  consumed = pos + length;
  return std::optional<Frame>(std::move(frame));
}

}  // namespace berth::streaming::websocket
