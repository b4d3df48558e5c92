// A WebSocket connection after the handshake, over a ByteTransport: whole messages in (fragments
// joined, pings answered, the close handshake done), messages out from any thread. Plus the
// ByteTransport view of its binary messages that tunnels a SPDY session (port-forward).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cri/streaming/byte_transport.h"
#include "cri/streaming/websocket_frame.h"

namespace berth::streaming::websocket {

inline constexpr size_t kMaxMessageSize = 1 << 20;

class Connection {
 public:
  enum class Role { kServer, kClient };
  struct Message {
    Opcode opcode = Opcode::kBinary;  // kText or kBinary
    std::string data;
  };

  Connection(std::unique_ptr<ByteTransport> transport, Role role);

  // The next data message; nullopt once the peer closed. One reader thread at a time.
  Result<std::optional<Message>> ReadMessage();
  Result<void> WriteMessage(Opcode opcode, std::string_view data);
  // Starts the close handshake (once); reads go on until the peer's close arrives.
  void Close(uint16_t code = 1000);
  void Shutdown() { transport_->Shutdown(); }

 private:
  Result<void> WriteFrame(Opcode opcode, std::string_view payload);
  Result<std::optional<Frame>> ReadFrame();

  std::unique_ptr<ByteTransport> transport_;
  const Role role_;
  FrameParser parser_;
  std::string buffer_;  // reader only
  std::mutex write_mu_;
  bool close_sent_ = false;  // write_mu_
};

// Binary messages as a byte stream.
class MessageTransport : public ByteTransport {
 public:
  explicit MessageTransport(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)) {}
  Result<size_t> Read(std::span<uint8_t> out) override;
  Result<void> Write(std::string_view data) override;
  void CloseWrite() override { connection_->Close(); }
  void Shutdown() override { connection_->Shutdown(); }

 private:
  std::unique_ptr<Connection> connection_;
  std::string pending_;
  size_t offset_ = 0;
};

}  // namespace berth::streaming::websocket
