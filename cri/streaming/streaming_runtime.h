// What the streaming server needs from the runtime: start an exec'd process or attach to a
// container (as a ProcessSession of fds), and dial a port inside a pod's network namespace. The
// server owns the protocols; the runtime owns processes, ptys and namespaces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::streaming {

struct TerminalSize {
  uint16_t width = 0;
  uint16_t height = 0;
  bool operator==(const TerminalSize&) const = default;
};

// One running process (exec) or attached container, seen from the server. The fds are the
// server's ends; each may be invalid (-1) when that stream was not requested. With a TTY, stdout
// carries the pty output and stderr is invalid.
class ProcessSession {
 public:
  virtual ~ProcessSession() = default;
  virtual UniqueFd
  TakeStdin() = 0;  // write end; the server closes it when the client half-closes stdin
  virtual UniqueFd TakeStdout() = 0;  // read end
  virtual UniqueFd TakeStderr() = 0;  // read end
  virtual Result<void> Resize(TerminalSize size) = 0;
  // Blocks until the process (or the attached container) ends; its exit code. Called on a thread
  // of the server's choosing.
  virtual Result<int> Wait() = 0;
  // The client went away: exec kills its process (and children); attach just detaches. Wait()
  // must then return promptly.
  virtual void Cancel() = 0;
};

struct ExecRequest {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false, stdin = false, stdout = false, stderr = false;
};

struct AttachRequest {
  std::string container_id;
  bool tty = false, stdin = false, stdout = false, stderr = false;
};

struct PortForwardRequest {
  std::string pod_id;
  std::vector<int32_t> ports;  // empty: any port the client names
};

class StreamingRuntime {
 public:
  virtual ~StreamingRuntime() = default;
  virtual Result<std::unique_ptr<ProcessSession>> Exec(const ExecRequest&) = 0;
  virtual Result<std::unique_ptr<ProcessSession>> Attach(const AttachRequest&) = 0;
  // A connected TCP stream socket to localhost:<port> inside the pod's network namespace.
  virtual Result<UniqueFd> DialPodPort(const std::string& pod_id, int32_t port) = 0;
};

}  // namespace berth::streaming
