#include "cri/streaming/port_forward.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <map>
#include <thread>

#include "base/parse_number.h"
#include "cri/streaming/spdy_session.h"

namespace berth::streaming {
namespace {

using spdy::SpdySession;
using spdy::SpdyStream;

struct PendingPair {
  std::shared_ptr<SpdyStream> error;
  std::shared_ptr<SpdyStream> data;
  std::chrono::steady_clock::time_point since;
};

struct Worker {
  std::thread thread;
  std::atomic<bool> done{false};
};

// Copies data stream <-> socket until both directions end; then ends the error stream.
void ForwardConnection(std::shared_ptr<SpdyStream> error, std::shared_ptr<SpdyStream> data,
                       int32_t port, const PortForwardRequest& request, StreamingRuntime& runtime) {
  auto fail = [&](const std::string& message) {
    spdlog::info("streaming: port-forward pod={} port={}: {}", request.pod_id, port, message);
    (void)error->Write(message);
    (void)error->CloseWrite();
    (void)data->CloseWrite();
  };
  if (!request.ports.empty() &&
      std::find(request.ports.begin(), request.ports.end(), port) == request.ports.end()) {
    return fail("port " + std::to_string(port) + " was not requested for pod " + request.pod_id);
  }
  auto socket = runtime.DialPodPort(request.pod_id, port);
  if (!socket.ok()) {
    return fail("error forwarding port " + std::to_string(port) + " to pod " + request.pod_id +
                ": " + socket.error().message());
  }
  int fd = socket->get();
  std::thread to_pod([&] {
    uint8_t buffer[32 * 1024];
    while (true) {
      auto n = data->Read(buffer);
      if (!n.ok()) {
        ::shutdown(fd, SHUT_RDWR);  // wakes the other direction
        break;
      }
      if (*n == 0) {
        ::shutdown(fd, SHUT_WR);
        break;
      }
      if (!WriteAllFd(fd, {reinterpret_cast<const char*>(buffer), *n}).ok()) {
        data->Reset();
        break;
      }
    }
  });
  char buffer[32 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      (void)data->CloseWrite();
      break;
    }
    if (!data->Write({buffer, static_cast<size_t>(n)}).ok()) {
      ::shutdown(fd, SHUT_RDWR);
      data->Reset();
      break;
    }
  }
  to_pod.join();
  (void)error->CloseWrite();
}

}  // namespace

Result<int32_t> ParsePort(std::string_view text) {
  auto port = ParsePortNumber(text);
  if (!port) {
    return InvalidArgument("port-forward: \"" + std::string(text.substr(0, 64)) +
                           "\" is not a port (1-65535)");
  }
  return static_cast<int32_t>(*port);
}

void ServeSpdyPortForward(std::unique_ptr<ByteTransport> transport,
                          const PortForwardRequest& request, StreamingRuntime& runtime,
                          const PortForwardLimits& limits,
                          const std::function<void(std::function<void()>)>& register_abort) {
  SpdySession::Options options;
  options.max_streams = limits.max_connections * 2 + 2;
  SpdySession session(std::move(transport), SpdySession::Role::kServer, options);
  register_abort([&session] { session.Abort(); });
  session.Start();

  std::map<std::string, PendingPair> pending;
  std::list<Worker> workers;
  auto reap = [&] {
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->done) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  };
  while (true) {
    auto stream = session.AcceptStream(std::chrono::steady_clock::now() + std::chrono::seconds(1));
    reap();
    auto now = std::chrono::steady_clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (now - it->second.since > limits.pair_timeout) {
        if (it->second.error) it->second.error->Reset();
        if (it->second.data) it->second.data->Reset();
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (!stream) {
      if (session.closed()) break;
      // The client sent GOAWAY: nothing new comes; wait for it to close the connection.
      if (std::chrono::steady_clock::now() - now < std::chrono::milliseconds(900)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    std::string type = stream->Header("streamType");
    std::string request_id = stream->Header("requestID");
    if (request_id.empty()) {
      // Clients older than requestID open the error stream first and its data stream next.
      uint32_t error_id = type == "data" ? stream->id() - 2 : stream->id();
      request_id = "stream-" + std::to_string(error_id);
    }
    if ((type != "error" && type != "data") || pending.size() >= limits.max_connections) {
      stream->Reset(type == "error" || type == "data" ? spdy::kRefusedStream
                                                      : spdy::kProtocolError);
      continue;
    }
    PendingPair& pair = pending[request_id];
    if (pair.since == std::chrono::steady_clock::time_point()) pair.since = now;
    auto& slot = type == "error" ? pair.error : pair.data;
    if (slot) {
      stream->Reset(spdy::kProtocolError);
      continue;
    }
    slot = stream;
    if (!pair.error || !pair.data) continue;
    PendingPair ready = std::move(pair);
    pending.erase(request_id);
    auto parsed_port = ParsePort(ready.data->Header("port"));
    int32_t port = parsed_port.ok() ? *parsed_port : 0;
    if (port == 0 || workers.size() >= limits.max_connections) {
      (void)ready.error->Write(port == 0 ? "invalid port header"
                                         : "too many forwarded connections");
      (void)ready.error->CloseWrite();
      ready.data->Reset();
      continue;
    }
    Worker& worker = workers.emplace_back();
    worker.thread = std::thread([&worker, &request, &runtime, port, ready = std::move(ready)] {
      ForwardConnection(ready.error, ready.data, port, request, runtime);
      worker.done = true;
    });
  }
  session.Abort();
  for (auto& worker : workers) worker.thread.join();
  register_abort(nullptr);
}

}  // namespace berth::streaming
