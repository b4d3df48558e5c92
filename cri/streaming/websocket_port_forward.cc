#include "cri/streaming/websocket_port_forward.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace berth::streaming {
namespace {

using websocket::Opcode;

// A channel is one byte, so 128 ports (channels 0..255) is the protocol's own ceiling.
constexpr size_t kMaxChannelPorts = 128;
constexpr size_t kPumpChunk = 32 * 1024;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
        HexDigit(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2]));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

// Sends all of `data` on a socket without raising SIGPIPE.
Result<void> SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "port-forward: write to pod");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

struct ForwardedPort {
  int32_t port = 0;
  UniqueFd socket;  // invalid when the dial failed; set before the reader starts
  std::thread from_pod;
};

// One session's state shared by its threads: the reader (client -> pods), one pump per dialled
// port (pod -> client), and the serving thread that waits for the end and tears down.
struct Session {
  Session(websocket::Connection& connection, size_t ports)
      : connection(connection), forwards(ports) {}

  websocket::Connection& connection;
  std::vector<ForwardedPort> forwards;
  std::mutex mu;
  std::condition_variable cv;
  size_t ports_running = 0;  // mu
  bool reader_gone = false;  // mu
  bool aborted = false;      // mu

  void ShutdownPodSockets() {  // mu held
    for (auto& forward : forwards) {
      if (forward.socket.valid()) ::shutdown(forward.socket.get(), SHUT_RDWR);
    }
  }

  Result<void> WriteChannel(uint8_t channel, std::string_view payload) {
    std::string message(1, static_cast<char>(channel));
    message += payload;
    return connection.WriteMessage(Opcode::kBinary, message);
  }

  void PumpFromPod(size_t index) {
    int fd = forwards[index].socket.get();
    std::string buffer(kPumpChunk + 1, '\0');
    buffer[0] = static_cast<char>(2 * index);
    while (true) {
      ssize_t n = ::read(fd, buffer.data() + 1, kPumpChunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (!connection.WriteMessage(Opcode::kBinary, {buffer.data(), static_cast<size_t>(n) + 1})
               .ok()) {
        ::shutdown(fd, SHUT_RDWR);
        break;
      }
    }
    std::lock_guard lock(mu);
    --ports_running;
    cv.notify_all();
  }

  // Client data: channel 2i to port i's socket. Error channels are the server's to write and
  // unknown channels are ignored, as kubelet's wsstream does; text (base64) messages too.
  void ReadFromClient() {
    while (true) {
      auto message = connection.ReadMessage();
      if (!message.ok() || !message->has_value()) break;
      const std::string& data = (*message)->data;
      if ((*message)->opcode != Opcode::kBinary || data.size() < 2) continue;
      size_t channel = static_cast<uint8_t>(data[0]);
      if (channel % 2 != 0 || channel / 2 >= forwards.size()) continue;
      int fd = forwards[channel / 2].socket.get();
      // Writing blocks while the pod does not read: back-pressure on the client, no buffer here.
      if (fd >= 0 && !SendAll(fd, std::string_view(data).substr(1)).ok()) ::shutdown(fd, SHUT_RDWR);
    }
    std::lock_guard lock(mu);
    reader_gone = true;
    cv.notify_all();
  }
};

}  // namespace

Result<std::vector<int32_t>> WebSocketPortForwardPorts(std::string_view target,
                                                       const PortForwardRequest& request,
                                                       const PortForwardLimits& limits) {
  std::vector<int32_t> ports;
  size_t question = target.find('?');
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  size_t limit = std::min(limits.max_connections, kMaxChannelPorts);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t equals = pair.find('=');
    if (PercentDecode(pair.substr(0, equals)) != "port") continue;
    std::string value =
        equals == std::string_view::npos ? "" : PercentDecode(pair.substr(equals + 1));
    if (value.empty())
      return InvalidArgument("port-forward: query parameter \"port\" cannot be empty");
    for (size_t start = 0; start <= value.size();) {
      size_t comma = std::min(value.find(',', start), value.size());
      BERTH_ASSIGN_OR_RETURN(int32_t port,
                             ParsePort(std::string_view(value).substr(start, comma - start)));
      if (!request.ports.empty() &&
          std::find(request.ports.begin(), request.ports.end(), port) == request.ports.end()) {
        return InvalidArgument("port-forward: port " + std::to_string(port) +
                               " was not requested for pod " + request.pod_id);
      }
      if (ports.size() >= limit) {
        return InvalidArgument("port-forward: more than " + std::to_string(limit) +
                               " ports in one session");
      }
      ports.push_back(port);
      start = comma + 1;
    }
  }
  if (ports.empty()) ports = request.ports;
  if (ports.empty())
    return InvalidArgument("port-forward over WebSocket needs ports (query parameter \"port\")");
  if (ports.size() > limit) {
    return InvalidArgument("port-forward: more than " + std::to_string(limit) +
                           " ports in one session");
  }
  return ports;
}

void ServeWebSocketPortForward(std::unique_ptr<websocket::Connection> connection,
                               const std::vector<int32_t>& ports, const PortForwardRequest& request,
                               StreamingRuntime& runtime,
                               const std::function<void(std::function<void()>)>& register_abort) {
  Session session(*connection, ports.size());
  register_abort([&session] {
    std::lock_guard lock(session.mu);
    session.aborted = true;
    session.connection.Shutdown();
    session.ShutdownPodSockets();
  });
  // As kubelet: every channel first carries its port, 2 bytes little endian.
  for (size_t i = 0; i < ports.size(); ++i) {
    session.forwards[i].port = ports[i];
    const char prefix[2] = {static_cast<char>(ports[i] & 0xff),
                            static_cast<char>((ports[i] >> 8) & 0xff)};
    (void)session.WriteChannel(static_cast<uint8_t>(2 * i), {prefix, 2});
    (void)session.WriteChannel(static_cast<uint8_t>(2 * i + 1), {prefix, 2});
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    auto socket = runtime.DialPodPort(request.pod_id, ports[i]);
    if (!socket.ok()) {
      std::string message = "error forwarding port " + std::to_string(ports[i]) + " to pod " +
                            request.pod_id + ": " + socket.error().message();
      spdlog::info("streaming: {}", message);
      (void)session.WriteChannel(static_cast<uint8_t>(2 * i + 1), message);
      continue;
    }
    std::lock_guard lock(session.mu);
    session.forwards[i].socket = std::move(*socket);
    if (session.aborted) ::shutdown(session.forwards[i].socket.get(), SHUT_RDWR);
    ++session.ports_running;
    session.forwards[i].from_pod = std::thread([&session, i] { session.PumpFromPod(i); });
  }
  std::thread reader([&session] { session.ReadFromClient(); });
  {
    std::unique_lock lock(session.mu);
    session.cv.wait(lock, [&] { return session.reader_gone || session.ports_running == 0; });
    if (!session.reader_gone) {
      // Every forward ended: kubelet closes the connection then. The client has 2 s to answer.
      lock.unlock();
      session.connection.Close();
      lock.lock();
      session.cv.wait_for(lock, std::chrono::seconds(2), [&] { return session.reader_gone; });
    }
    session.connection.Shutdown();
    session.ShutdownPodSockets();
  }
  reader.join();
  for (auto& forward : session.forwards) {
    if (forward.from_pod.joinable()) forward.from_pod.join();
  }
  register_abort(nullptr);
}

}  // namespace berth::streaming
