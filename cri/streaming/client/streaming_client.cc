#include "cri/streaming/client/streaming_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "cri/streaming/byte_transport.h"
#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/spdy_session.h"
#include "cri/streaming/websocket_connection.h"
#include "cri/streaming/websocket_remote_command.h"

namespace berth::streaming::client {
namespace {

using spdy::SpdySession;
using spdy::SpdyStream;

constexpr size_t kMaxStatusSize = 64 * 1024;

void TerminalSizesTo(TerminalSizeQueue* resizes, const Latch& done,
                     const std::function<Result<void>(TerminalSize)>& send) {
  if (resizes == nullptr) return;
  while (!done.signalled()) {
    auto size = resizes->Next(std::chrono::milliseconds(100));
    if (size) {
      if (!send(*size).ok()) return;
    } else if (resizes->closed()) {
      return;
    }
  }
}

// Copies a local fd to `send` until EOF (then `finish`) or until `done` is signalled.
void CopyFromFd(int fd, const Latch& done,
                const std::function<Result<void>(std::string_view)>& send,
                const std::function<void()>& finish) {
  char buffer[32 * 1024];
  while (WaitReadable(fd, done.fd())) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!send({buffer, static_cast<size_t>(n)}).ok()) return;
  }
  if (!done.signalled()) finish();
}

void CopyStreamToFd(const std::shared_ptr<SpdyStream>& stream, int fd) {
  uint8_t buffer[32 * 1024];
  while (true) {
    auto n = stream->Read(buffer);
    if (!n.ok() || *n == 0) return;
    if (fd >= 0) (void)WriteAllFd(fd, {reinterpret_cast<const char*>(buffer), *n});
  }
}

std::optional<RemoteCommandProtocol> ProtocolFromName(std::string_view name) {
  for (auto protocol :
       {RemoteCommandProtocol::kV1, RemoteCommandProtocol::kV2, RemoteCommandProtocol::kV3,
        RemoteCommandProtocol::kV4, RemoteCommandProtocol::kV5}) {
    if (ProtocolName(protocol) == name) return protocol;
  }
  return std::nullopt;
}

Result<int> RunOverSpdy(const std::string& url, const RemoteCommandOptions& options, int stdin_fd,
                        int stdout_fd, int stderr_fd, TerminalSizeQueue* resizes) {
  UpgradeOptions upgrade;
  upgrade.protocols = options.protocols;
  upgrade.tls = options.tls;
  if (upgrade.protocols.empty()) {
    upgrade.protocols = {std::string(kProtocolV4), std::string(kProtocolV3),
                         std::string(kProtocolV2), std::string(kProtocolV1)};
  }
  BERTH_ASSIGN_OR_RETURN(auto connection, DialUpgrade(url, upgrade));
  auto chosen = connection.response["X-Stream-Protocol-Version"];
  auto protocol = ProtocolFromName({chosen.data(), chosen.size()});
  if (!protocol)
    return Unavailable("server chose unknown protocol \"" + std::string(chosen) + "\"");

  SpdySession session(std::move(connection.transport), SpdySession::Role::kClient);
  session.Start();
  auto open = [&](const char* type) { return session.OpenStream({{"streamtype", type}}); };
  BERTH_ASSIGN_OR_RETURN(auto error, open("error"));
  (void)error->CloseWrite();
  std::shared_ptr<SpdyStream> stdin_stream, stdout_stream, stderr_stream, resize_stream;
  if (options.stdin) {
    BERTH_ASSIGN_OR_RETURN(stdin_stream, open("stdin"));
  }
  if (options.stdout) {
    BERTH_ASSIGN_OR_RETURN(stdout_stream, open("stdout"));
    (void)stdout_stream->CloseWrite();
  }
  if (options.stderr && !options.tty) {
    BERTH_ASSIGN_OR_RETURN(stderr_stream, open("stderr"));
    (void)stderr_stream->CloseWrite();
  }
  if (options.tty && *protocol >= RemoteCommandProtocol::kV3) {
    BERTH_ASSIGN_OR_RETURN(resize_stream, open("resize"));
  }

  Latch done;
  std::vector<std::thread> threads;
  if (stdin_stream) {
    threads.emplace_back([&] {
      CopyFromFd(
          stdin_fd, done, [&](std::string_view data) { return stdin_stream->Write(data); },
          [&] { (void)stdin_stream->CloseWrite(); });
    });
  }
  if (resize_stream) {
    threads.emplace_back([&] {
      TerminalSizesTo(resizes, done,
                      [&](TerminalSize size) { return resize_stream->Write(EncodeResize(size)); });
    });
  }
  std::thread out([&] {
    if (stdout_stream) CopyStreamToFd(stdout_stream, stdout_fd);
  });
  std::thread err([&] {
    if (stderr_stream) CopyStreamToFd(stderr_stream, stderr_fd);
  });
  auto status = error->ReadAll(kMaxStatusSize);
  out.join();
  err.join();
  done.Signal();
  session.Close();
  for (auto& thread : threads) thread.join();
  if (!status.ok()) return std::move(status).error().Wrap("read remote command status");
  return ParseFinalStatus(*protocol, *status);
}

Result<int> RunOverWebSocket(const std::string& url, const RemoteCommandOptions& options,
                             int stdin_fd, int stdout_fd, int stderr_fd,
                             TerminalSizeQueue* resizes) {
  UpgradeOptions upgrade;
  upgrade.websocket = true;
  upgrade.protocols = options.protocols;
  upgrade.tls = options.tls;
  if (upgrade.protocols.empty())
    upgrade.protocols = {std::string(kProtocolV5), std::string(kProtocolV4)};
  BERTH_ASSIGN_OR_RETURN(auto connection, DialUpgrade(url, upgrade));
  auto chosen = connection.response[boost::beast::http::field::sec_websocket_protocol];
  auto protocol = ProtocolFromName({chosen.data(), chosen.size()});
  if (!protocol)
    return Unavailable("server chose unknown protocol \"" + std::string(chosen) + "\"");
  websocket::Connection ws(std::move(connection.transport), websocket::Connection::Role::kClient);
  auto send = [&](uint8_t channel, std::string_view data) {
    std::string message(1, static_cast<char>(channel));
    message += data;
    return ws.WriteMessage(websocket::Opcode::kBinary, message);
  };
  Latch done;
  std::vector<std::thread> threads;
  if (options.stdin) {
    threads.emplace_back([&] {
      CopyFromFd(
          stdin_fd, done, [&](std::string_view data) { return send(kStdin, data); },
          [&] {
            if (*protocol == RemoteCommandProtocol::kV5)
              (void)send(kCloseChannel, std::string(1, static_cast<char>(kStdin)));
          });
    });
  }
  if (options.tty) {
    threads.emplace_back([&] {
      TerminalSizesTo(resizes, done,
                      [&](TerminalSize size) { return send(kResize, EncodeResize(size)); });
    });
  }
  std::string status;
  Result<void> failure = Ok();
  while (true) {
    auto message = ws.ReadMessage();
    if (!message.ok()) {
      failure = std::move(message).error();
      break;
    }
    if (!message->has_value()) break;
    const std::string& data = (*message)->data;
    if (data.empty()) continue;
    std::string_view payload = std::string_view(data).substr(1);
    switch (static_cast<uint8_t>(data[0])) {
      case kStdout:
        if (stdout_fd >= 0) (void)WriteAllFd(stdout_fd, payload);
        break;
      case kStderr:
        if (stderr_fd >= 0) (void)WriteAllFd(stderr_fd, payload);
        break;
      case kError:
        if (status.size() + payload.size() <= kMaxStatusSize) status += payload;
        break;
      default: break;
    }
  }
  done.Signal();
  ws.Close();
  ws.Shutdown();
  for (auto& thread : threads) thread.join();
  if (!failure.ok() && status.empty()) return std::move(failure).error();
  return ParseFinalStatus(*protocol, status);
}

}  // namespace

void TerminalSizeQueue::Push(TerminalSize size) {
  std::lock_guard lock(mu_);
  sizes_.push_back(size);
  cv_.notify_all();
}

void TerminalSizeQueue::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool TerminalSizeQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_ && sizes_.empty();
}

std::optional<TerminalSize> TerminalSizeQueue::Next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !sizes_.empty() || closed_; });
  if (sizes_.empty()) return std::nullopt;
  TerminalSize size = sizes_.front();
  sizes_.pop_front();
  return size;
}

Result<int> RunRemoteCommand(const std::string& url, const RemoteCommandOptions& options,
                             int stdin_fd, int stdout_fd, int stderr_fd,
                             TerminalSizeQueue* resizes) {
  if (options.transport == Transport::kWebSocket) {
    return RunOverWebSocket(url, options, stdin_fd, stdout_fd, stderr_fd, resizes);
  }
  return RunOverSpdy(url, options, stdin_fd, stdout_fd, stderr_fd, resizes);
}

struct PortForwarder::Impl {
  std::unique_ptr<SpdySession> session;
  std::atomic<uint64_t> next_request_id{0};
};

PortForwarder::PortForwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PortForwarder::~PortForwarder() {
  if (impl_ && impl_->session) impl_->session->Close();
}

Result<std::unique_ptr<PortForwarder>> PortForwarder::Connect(const std::string& url,
                                                              Transport transport,
                                                              const TlsClientOptions& tls) {
  UpgradeOptions upgrade;
  upgrade.tls = tls;
  upgrade.websocket = transport == Transport::kWebSocket;
  upgrade.protocols = {
      std::string(upgrade.websocket ? kTunnelledPortForwardProtocol : kPortForwardProtocol)};
  BERTH_ASSIGN_OR_RETURN(auto connection, DialUpgrade(url, upgrade));
  std::unique_ptr<ByteTransport> bytes = std::move(connection.transport);
  if (upgrade.websocket) {
    bytes = std::make_unique<websocket::MessageTransport>(std::make_unique<websocket::Connection>(
        std::move(bytes), websocket::Connection::Role::kClient));
  }
  auto impl = std::make_unique<Impl>();
  impl->session = std::make_unique<SpdySession>(std::move(bytes), SpdySession::Role::kClient);
  impl->session->Start();
  return std::unique_ptr<PortForwarder>(new PortForwarder(std::move(impl)));
}

Result<void> PortForwarder::Forward(int32_t port, UniqueFd local) {
  std::string request_id = std::to_string(impl_->next_request_id++);
  std::string port_text = std::to_string(port);
  BERTH_ASSIGN_OR_RETURN(
      auto error, impl_->session->OpenStream(
                      {{"streamtype", "error"}, {"port", port_text}, {"requestid", request_id}}));
  (void)error->CloseWrite();
  BERTH_ASSIGN_OR_RETURN(
      auto data, impl_->session->OpenStream(
                     {{"streamtype", "data"}, {"port", port_text}, {"requestid", request_id}}));
  Latch done;
  std::thread to_pod([&] {
    CopyFromFd(
        local.get(), done, [&](std::string_view bytes) { return data->Write(bytes); },
        [&] { (void)data->CloseWrite(); });
  });
  std::thread from_pod([&] {
    CopyStreamToFd(data, local.get());
    ::shutdown(local.get(), SHUT_WR);
  });
  auto message = error->ReadAll(kMaxStatusSize);
  if (!message.ok() || !message->empty()) {
    data->Reset();
    done.Signal();
  }
  from_pod.join();
  if (!message.ok() || !message->empty()) ::shutdown(local.get(), SHUT_RDWR);
  to_pod.join();
  if (!message.ok()) return std::move(message).error().Wrap("port-forward " + port_text);
  if (!message->empty()) return Unavailable("port-forward " + port_text + ": " + *message);
  return Ok();
}

Result<void> ForwardPort(const std::string& url, int32_t port, UniqueFd local, Transport transport,
                         const TlsClientOptions& tls) {
  BERTH_ASSIGN_OR_RETURN(auto forwarder, PortForwarder::Connect(url, transport, tls));
  return forwarder->Forward(port, std::move(local));
}

}  // namespace berth::streaming::client
