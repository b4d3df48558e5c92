// The local terminal for `exec -t` / `attach -t`: raw mode while the remote TTY owns the screen,
// and the window size followed as it changes.
#pragma once

#include <termios.h>

#include <atomic>
#include <thread>

#include "base/unique_fd.h"
#include "cri/streaming/client/streaming_client.h"

namespace berthctl {

// Puts a terminal into raw mode (as crictl and kubectl do: the remote TTY does the echoing and
// line editing, and ^C reaches the remote side as a byte) and restores it on destruction. A
// terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) also restores it before the process dies
// of that signal, so a shell is never left in raw mode. One at a time per process.
class RawTerminal {
 public:
  // Raw mode on `fd` when it is a terminal; otherwise does nothing (active() is false).
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  bool active() const { return active_; }
  // Back to the saved mode now (before printing an error, say); the destructor then does nothing.
  void Restore();

 private:
  bool active_ = false;
};

// Sends the terminal's size now and after every SIGWINCH into `queue`, until destroyed (which
// closes the queue). Kubernetes' remote command protocol takes the size as width x height.
class TerminalSizeWatcher {
 public:
  TerminalSizeWatcher(int terminal_fd, berth::streaming::client::TerminalSizeQueue& queue);
  ~TerminalSizeWatcher();
  TerminalSizeWatcher(const TerminalSizeWatcher&) = delete;
  TerminalSizeWatcher& operator=(const TerminalSizeWatcher&) = delete;

 private:
  void Run();
  void PushSize();

  int terminal_fd_;
  berth::streaming::client::TerminalSizeQueue& queue_;
  berth::UniqueFd wakeup_read_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace berthctl
