#include "cmd/berthctl/port_forward_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/parse_number.h"
#include "base/signals.h"
#include "base/unique_fd.h"
#include "cmd/berthctl/exec_commands.h"
#include "cri/streaming/client/streaming_client.h"

namespace berthctl {
namespace {

using berth::UniqueFd;
using berth::streaming::client::PortForwarder;
using berth::streaming::client::Transport;

// How long an interrupted port-forward waits for its open connections to wind down.
constexpr auto kShutdownGrace = std::chrono::seconds(2);

struct PortMapping {
  uint16_t local = 0;  // 0: any free port
  int32_t remote = 0;
};

// kubectl's forms: "8080" (the same port on both sides), "9000:8080", ":8080" (any local port).
std::optional<PortMapping> ParseMapping(const std::string& spec) {
  size_t colon = spec.find(':');
  std::string_view text = spec;
  if (colon == std::string::npos) {
    auto port = berth::ParsePortNumber(text);
    if (!port) return {};
    return PortMapping{*port, *port};
  }
  auto local =
      colon == 0 ? std::optional<uint16_t>(0) : berth::ParsePortNumber(text.substr(0, colon));
  auto remote = berth::ParsePortNumber(text.substr(colon + 1));
  if (!local || !remote) return {};
  return PortMapping{*local, *remote};
}

// A listening socket on 127.0.0.1:`port`; `port` becomes the bound one.
berth::Result<UniqueFd> ListenOnLoopback(uint16_t* port) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) return berth::Error::FromErrno(errno, "socket");
  int one = 1;
  ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(*port);
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return berth::Error::FromErrno(errno, "bind 127.0.0.1:" + std::to_string(*port));
  }
  if (::listen(socket.get(), 128) != 0) return berth::Error::FromErrno(errno, "listen");
  socklen_t length = sizeof address;
  ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return socket;
}

// The port-forward session all connections share: one URL, one connection to the streaming
// server. A forward that fails drops it, and the next connection asks PortForward for a new URL
// (each URL works once, and the session may have broken, e.g. when berthd restarted).
class SharedSession {
 public:
  SharedSession(Client& client, std::string pod, std::vector<int32_t> ports, Transport transport,
                berth::streaming::TlsClientOptions tls)
      : client_(client),
        pod_(std::move(pod)),
        ports_(std::move(ports)),
        transport_(transport),
        tls_(std::move(tls)) {}

  std::shared_ptr<PortForwarder> Get(std::string* error) {
    std::lock_guard lock(mu_);
    if (current_) return current_;
    ::runtime::v1::PortForwardRequest request;
    request.set_pod_sandbox_id(pod_);
    for (int32_t port : ports_) request.add_port(port);
    ::runtime::v1::PortForwardResponse response;
    auto status = client_.runtime().PortForward(client_.Context().get(), request, &response);
    if (!status.ok()) {
      *error = "PortForward: " + status.error_message();
      return nullptr;
    }
    auto forwarder = PortForwarder::Connect(response.url(), transport_, tls_);
    if (!forwarder.ok()) {
      *error = forwarder.error().message();
      return nullptr;
    }
    current_ = std::move(*forwarder);
    return current_;
  }

  void Dropped(const std::shared_ptr<PortForwarder>& forwarder) {
    std::lock_guard lock(mu_);
    if (current_ == forwarder) current_.reset();
  }

 private:
  Client& client_;
  const std::string pod_;
  const std::vector<int32_t> ports_;
  const Transport transport_;
  const berth::streaming::TlsClientOptions tls_;
  std::mutex mu_;
  std::shared_ptr<PortForwarder> current_;
};

// One accepted local connection being forwarded. `socket` stays ours (Forward gets a dup) so that
// an interrupt can shut it down while Forward still runs.
struct ActiveConnection {
  UniqueFd socket;
  std::atomic<bool> done{false};
  std::thread thread;
};

struct Listener {
  UniqueFd socket;
  PortMapping mapping;
};

void StartForward(SharedSession& session, const Listener& listener, UniqueFd connection,
                  std::list<std::unique_ptr<ActiveConnection>>& active) {
  std::printf("Handling connection for %d\n", listener.mapping.remote);
  std::fflush(stdout);
  std::string error;
  auto forwarder = session.Get(&error);
  if (!forwarder) {
    std::fprintf(stderr, "berthctl: port-forward %d: %s\n", listener.mapping.remote, error.c_str());
    return;
  }
  UniqueFd for_forward(::fcntl(connection.get(), F_DUPFD_CLOEXEC, 0));
  if (!for_forward) return;
  auto entry = std::make_unique<ActiveConnection>();
  entry->socket = std::move(connection);
  ActiveConnection* raw = entry.get();
  int32_t port = listener.mapping.remote;
  entry->thread = std::thread([&session, forwarder, port, raw, fd = for_forward.release()] {
    auto result = forwarder->Forward(port, UniqueFd(fd));
    if (!result.ok()) {
      std::fprintf(stderr, "berthctl: %s\n", result.error().message().c_str());
      session.Dropped(forwarder);
    }
    raw->done = true;
  });
  active.push_back(std::move(entry));
}

void ReapFinished(std::list<std::unique_ptr<ActiveConnection>>& active) {
  for (auto it = active.begin(); it != active.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = active.erase(it);
    } else {
      ++it;
    }
  }
}

// Like `crictl port-forward`: listens on 127.0.0.1 for each mapping and forwards every accepted
// connection until SIGINT/SIGTERM (exit 0).
int PortForward(const GlobalOptions& options, const std::string& pod,
                const std::vector<std::string>& specs, Transport transport) {
  std::vector<Listener> listeners;
  std::vector<int32_t> remote_ports;
  for (const auto& spec : specs) {
    auto mapping = ParseMapping(spec);
    if (!mapping) {
      std::fprintf(stderr,
                   "berthctl: port-forward: \"%s\" is not PORT, LOCAL_PORT:REMOTE_PORT or "
                   ":REMOTE_PORT\n",
                   spec.c_str());
      return 1;
    }
    listeners.push_back({UniqueFd(), *mapping});
    remote_ports.push_back(mapping->remote);
  }
  // Before any thread exists, so that only the waiter below sees the signals (and a local peer
  // that hangs up is a write error, not SIGPIPE).
  berth::BlockTerminationSignals();
  for (auto& listener : listeners) {
    auto socket = ListenOnLoopback(&listener.mapping.local);
    if (!socket.ok()) {
      std::fprintf(stderr, "berthctl: port-forward: %s\n", socket.error().message().c_str());
      return 1;
    }
    listener.socket = std::move(*socket);
  }
  Client client(options);
  SharedSession session(client, pod, remote_ports, transport,
                        {options.tls_ca_file, options.insecure_skip_tls_verify});
  // Connect once up front, so that a wrong pod or port is an error now and not at the first
  // connection.
  std::string error;
  if (!session.Get(&error)) {
    std::fprintf(stderr, "berthctl: port-forward %s: %s\n", pod.c_str(), error.c_str());
    return 1;
  }
  for (const auto& listener : listeners) {
    std::printf("Forwarding from 127.0.0.1:%u -> %d\n", listener.mapping.local,
                listener.mapping.remote);
  }
  std::fflush(stdout);

  // The waiter may outlive this function (it is never woken otherwise): it owns the write end.
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) return 1;
  UniqueFd interrupted(wake[0]);
  auto wake_write = std::make_shared<UniqueFd>(wake[1]);
  std::thread([wake_write] {
    berth::WaitForTerminationSignal();
    (void)!::write(wake_write->get(), "x", 1);
  }).detach();

  std::list<std::unique_ptr<ActiveConnection>> active;
  std::vector<pollfd> polled = {{interrupted.get(), POLLIN, 0}};
  for (const auto& listener : listeners) polled.push_back({listener.socket.get(), POLLIN, 0});
  while (true) {
    int ready = ::poll(polled.data(), polled.size(), 1000);
    ReapFinished(active);
    if (ready <= 0) continue;
    if (polled[0].revents != 0) break;
    for (size_t i = 1; i < polled.size(); ++i) {
      if ((polled[i].revents & POLLIN) == 0) continue;
      UniqueFd connection(::accept4(polled[i].fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (connection) StartForward(session, listeners[i - 1], std::move(connection), active);
    }
  }

  listeners.clear();
  for (auto& connection : active) ::shutdown(connection->socket.get(), SHUT_RDWR);
  auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
  while (!active.empty() && std::chrono::steady_clock::now() < deadline) {
    ReapFinished(active);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!active.empty()) {
    // A pod-side peer that does not close its end would hold the forward up: leave without it.
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(0);
  }
  return 0;
}

}  // namespace

void AddPortForwardCommand(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto pod = std::make_shared<std::string>();
  auto ports = std::make_shared<std::vector<std::string>>();
  auto transport = std::make_shared<Transport>(Transport::kSpdy);
  auto* command = app.add_subcommand(
      "port-forward", "forward local ports on 127.0.0.1 to ports in a pod until interrupted");
  command->add_option("pod", *pod, "pod sandbox ID (or a unique prefix)")->required();
  command->add_option("ports", *ports, "LOCAL_PORT:REMOTE_PORT, PORT or :REMOTE_PORT")->required();
  AddTransportOption(*command, transport.get());
  command->callback([&options, exit_code, pod, ports, transport] {
    *exit_code = PortForward(options, *pod, *ports, *transport);
  });
}

}  // namespace berthctl
