#include "cri/streaming/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "base/parse_number.h"
#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/port_forward.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/spdy_remote_command.h"
#include "cri/streaming/tls_transport.h"
#include "cri/streaming/websocket_connection.h"
#include "cri/streaming/websocket_port_forward.h"
#include "cri/streaming/websocket_remote_command.h"

namespace berth::streaming {
namespace {

bool IsIpv6(const std::string& address) {
  return address.find(':') != std::string::npos;
}

template <typename Request>
CommandOptions OptionsFor(const Request& request, RemoteCommandProtocol protocol) {
  CommandOptions options;
  options.protocol = protocol;
  options.stdin = request.stdin;
  options.stdout = request.stdout;
  options.stderr = request.stderr;
  options.tty = request.tty;
  return options;
}

// A request that passed the token check, on its way to a protocol: the transport it came on and
// the bytes read past its header (the first frames of the upgraded protocol).
struct Upgrade {
  const HttpRequest& request;
  std::unique_ptr<ByteTransport> bytes;
  std::string leftover;
  std::function<void(std::function<void()>)> register_abort;

  void Refuse(unsigned status, const std::string& body) {
    (void)WriteErrorResponse(*bytes, status, body);
  }
  // The transport moves to the protocol, with the leftover bytes first.
  std::unique_ptr<ByteTransport> Take() {
    return WithPrefix(std::move(bytes), std::move(leftover));
  }
  std::unique_ptr<websocket::Connection> TakeWebSocket() {
    return std::make_unique<websocket::Connection>(Take(), websocket::Connection::Role::kServer);
  }
};

// "/<kind>/<token>[?query]" -> the request stored under the token, when its kind matches.
std::optional<StreamingRequest> TakeStoredRequest(TokenStore& tokens, const HttpRequest& request) {
  std::string target(request.target().data(), request.target().size());
  std::string kind, token;
  if (size_t query = target.find('?'); query != std::string::npos) target.resize(query);
  if (target.size() > 1) {
    size_t slash = target.find('/', 1);
    if (slash != std::string::npos) {
      kind = target.substr(1, slash - 1);
      token = target.substr(slash + 1);
    }
  }
  auto stored = tokens.Take(token);
  bool kind_matches =
      stored && ((kind == "exec" && std::holds_alternative<ExecRequest>(*stored)) ||
                 (kind == "attach" && std::holds_alternative<AttachRequest>(*stored)) ||
                 (kind == "portforward" && std::holds_alternative<PortForwardRequest>(*stored)));
  if (!kind_matches) return std::nullopt;
  return stored;
}

bool Offers(const std::vector<std::string>& offered, std::string_view name) {
  return std::find(offered.begin(), offered.end(), name) != offered.end();
}

// Port-forward over WebSocket without SPDY tunnelled in it: kubelet's channel protocol.
void ServeWebSocketChannelPortForward(Upgrade& upgrade, const PortForwardRequest& forward,
                                      StreamingRuntime& runtime,
                                      const std::vector<std::string>& offered) {
  // kubelet takes no subprotocol or v4.channel.k8s.io; clients also name portforward.k8s.io. The
  // first the client offers wins.
  auto chosen = std::find_if(offered.begin(), offered.end(), [](const std::string& name) {
    return name == kPortForwardProtocol || name == "v4.channel.k8s.io";
  });
  if (!offered.empty() && chosen == offered.end()) {
    upgrade.Refuse(400,
                   "port-forward over WebSocket needs portforward.k8s.io, v4.channel.k8s.io or "
                   "SPDY/3.1+portforward.k8s.io\n");
    return;
  }
  const HttpRequest& request = upgrade.request;
  auto ports = WebSocketPortForwardPorts({request.target().data(), request.target().size()},
                                         forward, PortForwardLimits());
  if (!ports.ok()) {
    upgrade.Refuse(400, ports.error().message() + "\n");
    return;
  }
  if (!WriteWebSocketUpgrade(*upgrade.bytes, request, chosen == offered.end() ? "" : *chosen).ok())
    return;
  ServeWebSocketPortForward(upgrade.TakeWebSocket(), *ports, forward, runtime,
                            upgrade.register_abort);
}

void ServePortForward(Upgrade& upgrade, const PortForwardRequest& forward,
                      StreamingRuntime& runtime) {
  const HttpRequest& request = upgrade.request;
  if (IsSpdyUpgrade(request)) {
    if (!Offers(HeaderValues(request, "X-Stream-Protocol-Version"), kPortForwardProtocol)) {
      upgrade.Refuse(403, "port-forward needs protocol portforward.k8s.io\n");
      return;
    }
    if (!WriteSpdyUpgrade(*upgrade.bytes, kPortForwardProtocol).ok()) return;
    ServeSpdyPortForward(upgrade.Take(), forward, runtime, PortForwardLimits(),
                         upgrade.register_abort);
    return;
  }
  if (IsWebSocketUpgrade(request)) {
    auto offered = HeaderValues(request, "Sec-WebSocket-Protocol");
    if (!Offers(offered, kTunnelledPortForwardProtocol)) {
      ServeWebSocketChannelPortForward(upgrade, forward, runtime, offered);
      return;
    }
    // SPDY frames inside WebSocket messages.
    if (!WriteWebSocketUpgrade(*upgrade.bytes, request, kTunnelledPortForwardProtocol).ok()) return;
    ServeSpdyPortForward(std::make_unique<websocket::MessageTransport>(upgrade.TakeWebSocket()),
                         forward, runtime, PortForwardLimits(), upgrade.register_abort);
    return;
  }
  upgrade.Refuse(400, "expected an upgrade to SPDY/3.1 or WebSocket\n");
}

// Exec or attach, over SPDY or WebSocket.
void ServeRemoteCommand(Upgrade& upgrade, const StreamingRequest& stored, StreamingRuntime& runtime,
                        std::chrono::milliseconds stream_creation_timeout) {
  CommandOptions options;
  StartProcess start;
  std::string what;
  if (auto* exec = std::get_if<ExecRequest>(&stored)) {
    options = OptionsFor(*exec, RemoteCommandProtocol::kV4);
    start = [&runtime, exec] { return runtime.Exec(*exec); };
    what = "exec in container " + exec->container_id;
  } else {
    auto* attach = std::get_if<AttachRequest>(&stored);
    options = OptionsFor(*attach, RemoteCommandProtocol::kV4);
    start = [&runtime, attach] { return runtime.Attach(*attach); };
    what = "attach to container " + attach->container_id;
  }
  const HttpRequest& request = upgrade.request;
  if (IsSpdyUpgrade(request)) {
    auto protocol = NegotiateSpdyProtocol(HeaderValues(request, "X-Stream-Protocol-Version"));
    if (!protocol) {
      upgrade.Refuse(403, "no supported X-Stream-Protocol-Version offered\n");
      return;
    }
    options.protocol = *protocol;
    bool announced = !HeaderValues(request, "X-Stream-Protocol-Version").empty();
    if (!WriteSpdyUpgrade(*upgrade.bytes, announced ? ProtocolName(*protocol) : "").ok()) return;
    spdlog::debug("streaming: {} over SPDY ({})", what, ProtocolName(*protocol));
    ServeSpdyRemoteCommand(upgrade.Take(), options, start, stream_creation_timeout,
                           upgrade.register_abort);
    return;
  }
  if (IsWebSocketUpgrade(request)) {
    auto protocol = NegotiateWebSocketProtocol(HeaderValues(request, "Sec-WebSocket-Protocol"));
    if (!protocol) {
      upgrade.Refuse(400, "no supported Sec-WebSocket-Protocol offered\n");
      return;
    }
    options.protocol = *protocol;
    if (!WriteWebSocketUpgrade(*upgrade.bytes, request, ProtocolName(*protocol)).ok()) return;
    spdlog::debug("streaming: {} over WebSocket ({})", what, ProtocolName(*protocol));
    ServeWebSocketRemoteCommand(upgrade.TakeWebSocket(), options, start, upgrade.register_abort);
    return;
  }
  upgrade.Refuse(400, "expected an upgrade to SPDY/3.1 or WebSocket\n");
}

}  // namespace

StreamingServer::StreamingServer(StreamingServerConfig config, StreamingRuntime& runtime)
    : config_(std::move(config)),
      runtime_(runtime),
      tokens_(config_.token_ttl, config_.max_pending_tokens, config_.clock) {}

StreamingServer::~StreamingServer() {
  Stop();
}

Result<void> StreamingServer::Start() {
  if (config_.tls_cert_file.has_value() != config_.tls_key_file.has_value()) {
    return InvalidArgument("streaming server: TLS needs both a certificate file and a key file");
  }
  if (config_.tls_cert_file) {
    auto context = TlsServerContext::Load(*config_.tls_cert_file, *config_.tls_key_file);
    if (!context.ok()) return std::move(context).error().Wrap("streaming server");
    tls_ = std::move(*context);
  }
  bool v6 = IsIpv6(config_.address);
  UniqueFd socket(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return Error::FromErrno(errno, "streaming server: socket");
  int one = 1;
  ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (v6) {
    auto* addr = reinterpret_cast<sockaddr_in6*>(&storage);
    addr->sin6_family = AF_INET6;
    addr->sin6_port = htons(config_.port);
    if (::inet_pton(AF_INET6, config_.address.c_str(), &addr->sin6_addr) != 1) {
      return InvalidArgument("streaming server: bad address \"" + config_.address + "\"");
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* addr = reinterpret_cast<sockaddr_in*>(&storage);
    addr->sin_family = AF_INET;
    addr->sin_port = htons(config_.port);
    if (::inet_pton(AF_INET, config_.address.c_str(), &addr->sin_addr) != 1) {
      return InvalidArgument("streaming server: bad address \"" + config_.address + "\"");
    }
    length = sizeof(sockaddr_in);
  }
  std::string where = config_.address + ":" + std::to_string(config_.port);
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return Error::FromErrno(errno, "streaming server: bind " + where);
  }
  if (::listen(socket.get(), 64) != 0)
    return Error::FromErrno(errno, "streaming server: listen " + where);
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length);
  bound_port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                         : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener_ = std::move(socket);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  spdlog::info("streaming server listening on {}", BaseUrl());
  return Ok();
}

void StreamingServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_latch_.Signal();
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard lock(mu_);
    for (auto& connection : connections_) {
      if (connection.abort) connection.abort();
      ::shutdown(connection.socket.get(), SHUT_RDWR);
    }
  }
  // Each connection's thread cancels its process and returns once its protocol is torn down.
  std::list<Connection> all;
  {
    std::lock_guard lock(mu_);
    all.splice(all.end(), connections_);
  }
  for (auto& connection : all) connection.thread.join();
  listener_.reset();
}

std::string StreamingServer::BaseUrl() const {
  std::string host = IsIpv6(config_.address) ? "[" + config_.address + "]" : config_.address;
  std::string url = tls_ ? "https://" : "http://";
  url.append(host).append(":").append(std::to_string(bound_port_));
  return url;
}

size_t StreamingServer::active_connections() const {
  std::lock_guard lock(mu_);
  size_t active = 0;
  for (const auto& connection : connections_) active += connection.done ? 0 : 1;
  return active;
}

Result<std::string> StreamingServer::MakeUrl(std::string_view kind, StreamingRequest request) {
  BERTH_ASSIGN_OR_RETURN(std::string token, tokens_.Insert(std::move(request)));
  return BaseUrl() + "/" + std::string(kind) + "/" + token;
}

Result<std::string> StreamingServer::GetExecUrl(const ExecRequest& request) {
  if (request.cmd.empty()) return InvalidArgument("exec: cmd is empty");
  if (!request.stdin && !request.stdout && !request.stderr) {
    return InvalidArgument("exec: one of stdin, stdout and stderr must be set");
  }
  if (request.tty && request.stderr)
    return InvalidArgument("exec: tty and stderr cannot both be set");
  return MakeUrl("exec", request);
}

Result<std::string> StreamingServer::GetAttachUrl(const AttachRequest& request) {
  if (!request.stdin && !request.stdout && !request.stderr) {
    return InvalidArgument("attach: one of stdin, stdout and stderr must be set");
  }
  if (request.tty && request.stderr)
    return InvalidArgument("attach: tty and stderr cannot both be set");
  return MakeUrl("attach", request);
}

Result<std::string> StreamingServer::GetPortForwardUrl(const PortForwardRequest& request) {
  for (int32_t port : request.ports) {
    if (!IsPort(port)) return InvalidArgument("port-forward: invalid port " + std::to_string(port));
  }
  return MakeUrl("portforward", request);
}

void StreamingServer::ReapFinished() {
  std::list<Connection> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->done) finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  for (auto& connection : finished) connection.thread.join();
}

void StreamingServer::AcceptLoop() {
  while (true) {
    if (!WaitReadable(listener_.get(), stop_latch_.fd(), 1000)) {
      if (stop_latch_.signalled()) return;
      ReapFinished();
      continue;
    }
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ReapFinished();
    if (!client.valid()) continue;
    int one = 1;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (connections_.size() >= config_.max_connections) {
      spdlog::warn("streaming server: {} connections already open; refusing another",
                   connections_.size());
      // Over TLS the answer would need a handshake on this thread; the client sees a close.
      if (!tls_) {
        SocketTransport refused(std::move(client));
        (void)WriteErrorResponse(refused, 503, "too many streaming connections\n");
      }
      continue;
    }
    Connection& connection = connections_.emplace_back();
    connection.socket = std::move(client);
    connection.thread = std::thread([this, &connection] {
      Serve(connection);
      std::lock_guard lock(mu_);
      connection.abort = nullptr;
      connection.done = true;
    });
  }
}

void StreamingServer::Serve(Connection& connection) {
  // The TLS handshake and the HTTP request share the handshake timeout. The transport owns a
  // duplicate of the socket; the connection keeps the number for Stop()'s shutdown, which wakes
  // whoever waits on either.
  auto deadline = std::chrono::steady_clock::now() + config_.handshake_timeout;
  std::unique_ptr<ByteTransport> bytes;
  UniqueFd socket(::dup(connection.socket.get()));
  if (!socket.valid()) return;
  if (tls_) {
    auto secured = TlsTransport::Accept(std::move(socket), *tls_, deadline);
    if (!secured.ok()) {
      spdlog::debug("streaming: {}", secured.error().message());
      return;
    }
    bytes = std::move(*secured);
  } else {
    bytes = std::make_unique<SocketTransport>(std::move(socket));
  }
  auto received = ReadRequest(*bytes, deadline);
  if (!received.ok()) {
    (void)WriteErrorResponse(*bytes, 400, received.error().message() + "\n");
    return;
  }
  auto stored = TakeStoredRequest(tokens_, received->request);
  if (!stored) {
    (void)WriteErrorResponse(*bytes, 404, "unknown, used or expired streaming token\n");
    return;
  }
  Upgrade upgrade{received->request, std::move(bytes), std::move(received->leftover),
                  [this, &connection](std::function<void()> abort) {
                    std::lock_guard lock(mu_);
                    connection.abort = std::move(abort);
                    if (stopping_) ::shutdown(connection.socket.get(), SHUT_RDWR);
                  }};
  if (auto* forward = std::get_if<PortForwardRequest>(&*stored)) {
    ServePortForward(upgrade, *forward, runtime_);
  } else {
    ServeRemoteCommand(upgrade, *stored, runtime_, config_.stream_creation_timeout);
  }
}

}  // namespace berth::streaming
