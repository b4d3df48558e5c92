#include "cmd/berthctl/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>

namespace berthctl {
namespace {

constexpr int kTerminatingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// What the signal handlers need; plain globals because only async-signal-safe code reads them.
int raw_fd = -1;
termios saved_mode{};
volatile sig_atomic_t raw_active = 0;
struct sigaction previous_actions[std::size(kTerminatingSignals)];

// The SIGWINCH self-pipe's write end (-1 when no watcher runs).
volatile sig_atomic_t resize_pipe = -1;

void RestoreOnSignal(int signal) {
  if (raw_active) ::tcsetattr(raw_fd, TCSANOW, &saved_mode);
  raw_active = 0;
  // Die of the signal as if berthctl had not caught it: the caller sees 128 + signal.
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

void NoteResize(int) {
  int saved_errno = errno;
  int fd = resize_pipe;
  if (fd >= 0) (void)!::write(fd, "w", 1);
  errno = saved_errno;
}

}  // namespace

RawTerminal::RawTerminal(int fd) {
  termios mode{};
  if (!::isatty(fd) || ::tcgetattr(fd, &mode) != 0) return;
  raw_fd = fd;
  saved_mode = mode;
  raw_active = 1;
  struct sigaction action {};
  action.sa_handler = RestoreOnSignal;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < std::size(kTerminatingSignals); ++i) {
    ::sigaction(kTerminatingSignals[i], &action, &previous_actions[i]);
  }
  ::cfmakeraw(&mode);
  if (::tcsetattr(fd, TCSANOW, &mode) != 0) {
    Restore();
    return;
  }
  active_ = true;
}

RawTerminal::~RawTerminal() {
  Restore();
}

void RawTerminal::Restore() {
  if (raw_fd < 0) return;
  if (raw_active) ::tcsetattr(raw_fd, TCSANOW, &saved_mode);
  raw_active = 0;
  for (size_t i = 0; i < std::size(kTerminatingSignals); ++i) {
    ::sigaction(kTerminatingSignals[i], &previous_actions[i], nullptr);
  }
  raw_fd = -1;
  active_ = false;
}

TerminalSizeWatcher::TerminalSizeWatcher(int terminal_fd,
                                         berth::streaming::client::TerminalSizeQueue& queue)
    : terminal_fd_(terminal_fd), queue_(queue) {
  PushSize();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
  wakeup_read_.reset(fds[0]);
  resize_pipe = fds[1];
  struct sigaction action {};
  action.sa_handler = NoteResize;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGWINCH, &action, nullptr);
  thread_ = std::thread([this] { Run(); });
}

TerminalSizeWatcher::~TerminalSizeWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (wakeup_read_) {
    ::signal(SIGWINCH, SIG_DFL);
    int fd = resize_pipe;
    resize_pipe = -1;
    ::close(fd);
  }
  queue_.Close();
}

void TerminalSizeWatcher::PushSize() {
  winsize size{};
  if (::ioctl(terminal_fd_, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) return;
  queue_.Push({size.ws_col, size.ws_row});
}

void TerminalSizeWatcher::Run() {
  while (!stop_) {
    pollfd readable{wakeup_read_.get(), POLLIN, 0};
    if (::poll(&readable, 1, 100) <= 0) continue;
    char drained[64];
    while (::read(wakeup_read_.get(), drained, sizeof drained) > 0) {
    }
    PushSize();
  }
}

}  // namespace berthctl
