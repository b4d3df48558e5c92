// Runs one exec/attach session: pumps the process's fds to and from the client's streams, waits
// for the process, writes the final status. Transport-neutral: SPDY streams and WebSocket
// channels both implement CommandStreams.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "base/result.h"
#include "cri/streaming/remote_command.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::streaming {

// The client's side of a remote command, as the runner sees it. Reads and writes block; every
// call fails once the client is gone. Calls come from several runner threads at once.
class CommandStreams {
 public:
  virtual ~CommandStreams() = default;
  // Client's stdin; 0 once the client half-closed it.
  virtual Result<size_t> ReadStdin(std::span<uint8_t> out) = 0;
  // The next terminal size; nullopt when the resize stream ended.
  virtual Result<std::optional<TerminalSize>> ReadResize() = 0;
  virtual Result<void> WriteStdout(std::string_view data) = 0;
  virtual Result<void> WriteStderr(std::string_view data) = 0;
  // Ends stdout and stderr.
  virtual void CloseOutputs() = 0;
  // Writes the final status on the error stream and ends it.
  virtual Result<void> WriteStatus(std::string_view status) = 0;
  // Calls `on_gone` once when the client disconnects (possibly right away, from this thread).
  // nullptr unregisters; once that returns, no call is in flight.
  virtual void OnClientGone(std::function<void()> on_gone) = 0;
  // Ends the connection (gracefully while the client is still there); blocked reads and writes
  // return.
  virtual void Shutdown() = 0;
};

struct CommandOptions {
  RemoteCommandProtocol protocol = RemoteCommandProtocol::kV4;
  bool stdin = false, stdout = false, stderr = false, tty = false;
};

// Pumps until the process ends (then drains its output and writes the status) or the client goes
// away (then Cancel()s the session). Returns after every thread it started has ended; the caller
// closes the connection afterwards.
void RunCommandSession(ProcessSession& process, CommandStreams& streams,
                       const CommandOptions& options);

}  // namespace berth::streaming
