// A client of berth's streaming server (or any kubelet-style one): exec/attach through the URL a
// CRI Exec/Attach returned, and port-forward through a PortForward URL, over SPDY/3.1 or
// WebSocket. Blocking calls; the caller owns the fds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "cri/streaming/streaming_runtime.h"
#include "cri/streaming/tls_transport.h"

namespace berth::streaming::client {

enum class Transport { kSpdy, kWebSocket };

// For https:// URLs: verify against the system's CA store by default, or `ca_file`, or (tests,
// berthctl's insecure mode) not at all.
using streaming::TlsClientOptions;

struct RemoteCommandOptions {
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;  // ignored with tty
  bool tty = false;
  Transport transport = Transport::kSpdy;
  // Offered protocols, preferred first; empty: v4..v1 over SPDY, v5 and v4 over WebSocket.
  std::vector<std::string> protocols;
  TlsClientOptions tls;  // https:// URLs only
};

// Terminal sizes to send (SIGWINCH handler -> Push). Thread-safe.
class TerminalSizeQueue {
 public:
  void Push(TerminalSize size);
  void Close();
  // The next size; nullopt when closed or after `timeout` without one.
  std::optional<TerminalSize> Next(std::chrono::milliseconds timeout);
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TerminalSize> sizes_;
  bool closed_ = false;
};

// Runs the remote command: copies stdin_fd (until EOF, then half-closes the remote stdin) and
// writes the remote stdout/stderr to stdout_fd/stderr_fd (-1 for any stream not used). Returns
// the exit code (0 on Success, N for NonZeroExitCode); an Error for any other failure, including
// an HTTP 404 for a used or expired URL (NotFound).
Result<int> RunRemoteCommand(const std::string& url, const RemoteCommandOptions& options,
                             int stdin_fd, int stdout_fd, int stderr_fd,
                             TerminalSizeQueue* resizes);

// One port-forward session (one connection to the server) carrying any number of forwarded
// connections at once.
class PortForwarder {
 public:
  static Result<std::unique_ptr<PortForwarder>> Connect(const std::string& url, Transport transport,
                                                        const TlsClientOptions& tls = {});
  ~PortForwarder();
  // Forwards one local connection to `port` in the pod: copies both ways until both ends finish.
  // The error stream's text (dial failure, port not allowed) comes back as an Error.
  // Thread-safe: call from one thread per local connection.
  Result<void> Forward(int32_t port, UniqueFd local);

 private:
  struct Impl;
  explicit PortForwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Convenience: one session, one connection.
Result<void> ForwardPort(const std::string& url, int32_t port, UniqueFd local, Transport transport,
                         const TlsClientOptions& tls = {});

}  // namespace berth::streaming::client
