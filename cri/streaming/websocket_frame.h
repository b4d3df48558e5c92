// RFC 6455 frames: encode, and an incremental parser that treats every byte as hostile (reserved
// bits, masking by role, control-frame rules, a payload bound).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::streaming::websocket {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xa,
};

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::kBinary;
  std::string payload;  // unmasked
};

// `mask`: a client's 4-byte masking key (clients must mask, servers must not).
std::string EncodeFrame(Opcode opcode, std::string_view payload, bool fin,
                        const std::optional<std::array<uint8_t, 4>>& mask);

class FrameParser {
 public:
  // A server expects masked frames, a client unmasked ones.
  FrameParser(bool expect_masked, size_t max_payload)
      : expect_masked_(expect_masked), max_payload_(max_payload) {}
  // One frame from the front of `buffer`: nullopt when more bytes are needed (`consumed` 0).
  Result<std::optional<Frame>> Parse(std::string_view buffer, size_t& consumed) const;

 private:
  bool expect_masked_;
  size_t max_payload_;
};

}  // namespace berth::streaming::websocket
