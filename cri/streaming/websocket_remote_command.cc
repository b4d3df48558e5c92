#include "cri/streaming/websocket_remote_command.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace berth::streaming {
namespace {

using websocket::Opcode;

constexpr size_t kMaxQueuedStdin = 1 << 20;

class WebSocketCommandStreams : public CommandStreams {
 public:
  WebSocketCommandStreams(websocket::Connection& connection, const CommandOptions& options)
      : connection_(connection), options_(options) {
    demux_ = std::thread([this] { Demux(); });
  }
  ~WebSocketCommandStreams() override {
    connection_.Shutdown();
    if (demux_.joinable()) demux_.join();
  }

  Result<size_t> ReadStdin(std::span<uint8_t> out) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !stdin_.empty() || stdin_closed_ || gone_; });
    if (!stdin_.empty()) {
      size_t n = std::min(out.size(), stdin_.size());
      std::memcpy(out.data(), stdin_.data(), n);
      stdin_.erase(0, n);
      cv_.notify_all();
      return n;
    }
    if (stdin_closed_) return size_t{0};
    return Unavailable("WebSocket connection closed");
  }

  Result<std::optional<TerminalSize>> ReadResize() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !sizes_.empty() || resize_closed_ || gone_; });
    if (!sizes_.empty()) {
      TerminalSize size = sizes_.front();
      sizes_.pop_front();
      return std::optional<TerminalSize>(size);
    }
    if (resize_closed_) return std::optional<TerminalSize>();
    return Unavailable("WebSocket connection closed");
  }

  Result<void> WriteStdout(std::string_view data) override { return WriteChannel(kStdout, data); }
  Result<void> WriteStderr(std::string_view data) override { return WriteChannel(kStderr, data); }

  void CloseOutputs() override {
    if (options_.protocol != RemoteCommandProtocol::kV5) return;
    for (uint8_t channel : {kStdout, kStderr}) {
      const char message[2] = {static_cast<char>(kCloseChannel), static_cast<char>(channel)};
      (void)connection_.WriteMessage(Opcode::kBinary, {message, 2});
    }
  }

  Result<void> WriteStatus(std::string_view status) override {
    return WriteChannel(kError, status);
  }

  void OnClientGone(std::function<void()> on_gone) override {
    std::lock_guard lock(mu_);
    if (gone_ && on_gone) {
      on_gone();
      return;
    }
    on_gone_ = std::move(on_gone);
  }

  void Shutdown() override {
    connection_.Close();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(2), [&] { return gone_; });
    lock.unlock();
    connection_.Shutdown();
  }

 private:
  Result<void> WriteChannel(uint8_t channel, std::string_view data) {
    std::string message(1, static_cast<char>(channel));
    message += data;
    return connection_.WriteMessage(Opcode::kBinary, message);
  }

  void Demux() {
    while (true) {
      auto message = connection_.ReadMessage();
      if (!message.ok() || !message->has_value()) break;
      std::string& data = (*message)->data;
      if ((*message)->opcode != Opcode::kBinary || data.empty()) continue;
      uint8_t channel = static_cast<uint8_t>(data[0]);
      std::string_view payload = std::string_view(data).substr(1);
      std::unique_lock lock(mu_);
      if (channel == kStdin && !stdin_closed_) {
        cv_.wait(lock, [&] { return stdin_.size() < kMaxQueuedStdin || gone_; });
        stdin_ += payload;
      } else if (channel == kResize && !resize_closed_) {
        auto sizes = decoder_.Feed(payload);
        if (!sizes.ok()) {
          resize_closed_ = true;
        } else {
          sizes_.insert(sizes_.end(), sizes->begin(), sizes->end());
        }
      } else if (channel == kCloseChannel && payload.size() == 1 &&
                 options_.protocol == RemoteCommandProtocol::kV5) {
        if (payload[0] == kStdin) stdin_closed_ = true;
        if (payload[0] == kResize) resize_closed_ = true;
      }
      cv_.notify_all();
    }
    // Called under mu_, so that OnClientGone(nullptr) returning means no call is in flight.
    std::lock_guard lock(mu_);
    gone_ = true;
    cv_.notify_all();
    if (on_gone_) std::exchange(on_gone_, nullptr)();
  }

  websocket::Connection& connection_;
  const CommandOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string stdin_;
  std::deque<TerminalSize> sizes_;
  ResizeDecoder decoder_;
  bool stdin_closed_ = false;
  bool resize_closed_ = false;
  bool gone_ = false;
  std::function<void()> on_gone_;
  std::thread demux_;
};

}  // namespace

void ServeWebSocketRemoteCommand(std::unique_ptr<websocket::Connection> connection,
                                 const CommandOptions& options, const StartProcess& start,
                                 const std::function<void(std::function<void()>)>& register_abort) {
  websocket::Connection* raw = connection.get();
  register_abort([raw] { raw->Shutdown(); });
  {
    WebSocketCommandStreams streams(*connection, options);
    auto process = start();
    if (!process.ok()) {
      streams.CloseOutputs();
      (void)streams.WriteStatus(FinalStatus(options.protocol, process.error()));
      streams.Shutdown();
    } else {
      RunCommandSession(**process, streams, options);
    }
  }
  register_abort(nullptr);
}

}  // namespace berth::streaming
