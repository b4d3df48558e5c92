#include "cri/streaming/websocket_frame.h"

#include <gtest/gtest.h>

namespace berth::streaming::websocket {
namespace {

TEST(WebSocketFrameTest, RoundTripAllLengthEncodings) {
  for (size_t length : {0u, 5u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload(length, 'p');
    for (bool masked : {false, true}) {
      std::optional<std::array<uint8_t, 4>> mask;
      if (masked) mask = std::array<uint8_t, 4>{1, 2, 3, 4};
      std::string wire = EncodeFrame(Opcode::kBinary, payload, true, mask);
      FrameParser parser(masked, 1 << 20);
      size_t consumed = 0;
      // Short of the last byte: needs more.
      auto partial = parser.Parse(std::string_view(wire).substr(0, wire.size() - 1), consumed);
      ASSERT_TRUE(partial.ok());
      EXPECT_FALSE(partial->has_value());
      auto frame = parser.Parse(wire, consumed);
      ASSERT_TRUE(frame.ok() && frame->has_value()) << length;
      EXPECT_EQ(consumed, wire.size());
      EXPECT_EQ((*frame)->payload, payload);
      EXPECT_EQ((*frame)->opcode, Opcode::kBinary);
    }
  }
}

TEST(WebSocketFrameTest, KnownClientFrame) {
  // RFC 6455 section 5.7: a masked "Hello".
  std::string wire("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  size_t consumed = 0;
  auto frame = FrameParser(true, 1024).Parse(wire, consumed);
  ASSERT_TRUE(frame.ok() && frame->has_value());
  EXPECT_EQ((*frame)->opcode, Opcode::kText);
  EXPECT_EQ((*frame)->payload, "Hello");
  EXPECT_EQ(
      EncodeFrame(Opcode::kText, "Hello", true, std::array<uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d}),
      wire);
}

TEST(WebSocketFrameTest, HostileFramesAreRejected) {
  size_t consumed = 0;
  FrameParser server(true, 1024);
  EXPECT_FALSE(server.Parse(EncodeFrame(Opcode::kBinary, "x", true, std::nullopt), consumed)
                   .ok());                                                        // unmasked
  EXPECT_FALSE(server.Parse(std::string("\xc2\x80\0\0\0\0", 6), consumed).ok());  // RSV1
  EXPECT_FALSE(server.Parse(std::string("\x83\x80\0\0\0\0", 6), consumed).ok());  // opcode 3
  EXPECT_FALSE(server.Parse(std::string("\x09\x80\0\0\0\0", 6), consumed).ok());  // fragmented ping
  EXPECT_FALSE(server.Parse(std::string("\x82\xfe\x08\x00", 4), consumed).ok());  // 2048 > bound
  EXPECT_FALSE(
      server.Parse(std::string("\x82\xff\x80\0\0\0\0\0\0\0", 10), consumed).ok());  // 64-bit MSB
  EXPECT_FALSE(
      FrameParser(false, 1024)
          .Parse(EncodeFrame(Opcode::kBinary, "x", true, std::array<uint8_t, 4>{}), consumed)
          .ok());
}

}  // namespace
}  // namespace berth::streaming::websocket
