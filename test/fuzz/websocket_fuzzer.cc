// Fuzz target: RFC 6455 frames (cri/streaming/websocket_frame) and the messages built from them
// (websocket_connection), as a client sends them to the streaming server after the upgrade. The
// input is the client's byte stream, read in pieces of varying size; every data message goes
// through the Kubernetes channel framing as exec does (first byte the channel, resize messages on
// channel 4 into the resize decoder). The frame parser also sees the input directly in both
// roles, and every frame it accepts must encode back to the same bytes.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cri/streaming/remote_command.h"
#include "cri/streaming/websocket_connection.h"
#include "cri/streaming/websocket_frame.h"
#include "test/fuzz/fuzz_check.h"
#include "test/fuzz/memory_transport.h"

namespace {

using namespace berth::streaming;
using namespace berth::streaming::websocket;

constexpr uint8_t kResizeChannel = 4;

void ParseAll(std::string_view input, bool masked) {
  FrameParser parser(masked, kMaxMessageSize);
  while (!input.empty()) {
    size_t consumed = 0;
    auto frame = parser.Parse(input, consumed);
    if (!frame.ok() || !*frame) return;
    BERTH_FUZZ_CHECK(consumed > 0 && consumed <= input.size(), "bad consumed count");
    std::optional<std::array<uint8_t, 4>> mask;
    if (masked) {
      // The key sits right before the payload.
      size_t at = consumed - (*frame)->payload.size() - 4;
      mask = std::array<uint8_t, 4>{
          static_cast<uint8_t>(input[at]), static_cast<uint8_t>(input[at + 1]),
          static_cast<uint8_t>(input[at + 2]), static_cast<uint8_t>(input[at + 3])};
    }
    std::string encoded = EncodeFrame((*frame)->opcode, (*frame)->payload, (*frame)->fin, mask);
    size_t again_consumed = 0;
    auto again = parser.Parse(encoded, again_consumed);
    BERTH_FUZZ_CHECK(again.ok() && *again && again_consumed == encoded.size(),
                     "re-encoded frame does not parse");
    BERTH_FUZZ_CHECK((*again)->payload == (*frame)->payload &&
                         (*again)->opcode == (*frame)->opcode && (*again)->fin == (*frame)->fin,
                     "frame changed through encode and parse");
    input.remove_prefix(consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseAll(input, true);
  ParseAll(input, false);

  Connection connection(std::make_unique<berth::fuzz::MemoryTransport>(input),
                        Connection::Role::kServer);
  ResizeDecoder resize;
  bool resize_failed = false;
  while (true) {
    auto message = connection.ReadMessage();
    if (!message.ok() || !*message) break;
    BERTH_FUZZ_CHECK((*message)->data.size() <= kMaxMessageSize, "message above the bound");
    std::string_view payload = (*message)->data;
    if (payload.empty() || static_cast<uint8_t>(payload[0]) != kResizeChannel || resize_failed)
      continue;
    auto sizes = resize.Feed(payload.substr(1));
    resize_failed = !sizes.ok();
  }
  return 0;
}
