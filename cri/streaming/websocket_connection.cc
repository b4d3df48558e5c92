#include "cri/streaming/websocket_connection.h"

#include <cstring>

#include "base/parse_number.h"
#include "base/random.h"

namespace berth::streaming::websocket {

Connection::Connection(std::unique_ptr<ByteTransport> transport, Role role)
    : transport_(std::move(transport)),
      role_(role),
      parser_(role == Role::kServer, kMaxMessageSize) {}

Result<void> Connection::WriteFrame(Opcode opcode, std::string_view payload) {
  std::optional<std::array<uint8_t, 4>> mask;
  if (role_ == Role::kClient) {
    std::string hex = RandomHex(8);
    std::array<uint8_t, 4> key{};
    for (size_t i = 0; i < 4; ++i)
      key[i] = static_cast<uint8_t>(ParseHex(std::string_view(hex).substr(i * 2, 2)).value_or(0));
    mask = key;
  }
  return transport_->Write(EncodeFrame(opcode, payload, true, mask));
}

Result<void> Connection::WriteMessage(Opcode opcode, std::string_view data) {
  std::lock_guard lock(write_mu_);
  if (close_sent_) return FailedPrecondition("WebSocket connection is closing");
  return WriteFrame(opcode, data);
}

void Connection::Close(uint16_t code) {
  std::lock_guard lock(write_mu_);
  if (close_sent_) return;
  close_sent_ = true;
  char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code)};
  (void)WriteFrame(Opcode::kClose, {payload, 2});
}

Result<std::optional<Frame>> Connection::ReadFrame() {
  while (true) {
    size_t consumed = 0;
    BERTH_ASSIGN_OR_RETURN(auto frame, parser_.Parse(buffer_, consumed));
    if (frame) {
      buffer_.erase(0, consumed);
      return frame;
    }
    char chunk[32 * 1024];
    BERTH_ASSIGN_OR_RETURN(size_t n,
                           transport_->Read({reinterpret_cast<uint8_t*>(chunk), sizeof(chunk)}));
    if (n == 0) return std::optional<Frame>();
    buffer_.append(chunk, n);
  }
}

Result<std::optional<Connection::Message>> Connection::ReadMessage() {
  std::optional<Message> message;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(auto frame, ReadFrame());
    if (!frame) return std::optional<Message>();
    switch (frame->opcode) {
      case Opcode::kPing: {
        std::lock_guard lock(write_mu_);
        if (!close_sent_) BERTH_TRY(WriteFrame(Opcode::kPong, frame->payload));
        continue;
      }
      case Opcode::kPong: continue;
      case Opcode::kClose: Close(); return std::optional<Message>();
      case Opcode::kContinuation:
        if (!message) return InvalidArgument("WebSocket continuation frame without a message");
        break;
      default:
        if (message) return InvalidArgument("WebSocket data frame inside a fragmented message");
        message = Message{frame->opcode, {}};
    }
    if (message->data.size() + frame->payload.size() > kMaxMessageSize) {
      return InvalidArgument("WebSocket message larger than 1 MiB");
    }
    message->data += frame->payload;
    if (frame->fin) return message;
  }
}

Result<size_t> MessageTransport::Read(std::span<uint8_t> out) {
  while (offset_ == pending_.size()) {
    BERTH_ASSIGN_OR_RETURN(auto message, connection_->ReadMessage());
    if (!message) return size_t{0};
    if (message->opcode != Opcode::kBinary) continue;
    pending_ = std::move(message->data);
    offset_ = 0;
  }
  size_t n = std::min(out.size(), pending_.size() - offset_);
  std::memcpy(out.data(), pending_.data() + offset_, n);
  offset_ += n;
  return n;
}

Result<void> MessageTransport::Write(std::string_view data) {
  return connection_->WriteMessage(Opcode::kBinary, data);
}

}  // namespace berth::streaming::websocket
