#include "cri/streaming/command_runner.h"

#include <poll.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "cri/streaming/byte_transport.h"

namespace berth::streaming {
namespace {

// After the process exits, output still in the pipe is sent; a pipe some grandchild keeps open is
// given up after this long without data.
constexpr int kDrainIdleMs = 1000;

struct SharedState {
  std::mutex mu;
  std::condition_variable cv;
  bool exited = false;
  bool client_gone = false;
  int pumps_running = 0;
  Latch exit_latch;    // the process ended: output pumps switch to draining
  Latch cancel_latch;  // stop everything now

  void Set(bool SharedState::*flag) {
    std::lock_guard lock(mu);
    this->*flag = true;
    cv.notify_all();
  }
};

// Copies one output fd of the process to the client until EOF, or until the process has exited
// and the fd stays quiet.
void PumpOutput(int fd, SharedState& state,
                const std::function<Result<void>(std::string_view)>& write) {
  char buffer[32 * 1024];
  bool draining = false;
  while (true) {
    pollfd fds[3] = {
        {fd, POLLIN, 0}, {state.cancel_latch.fd(), POLLIN, 0}, {state.exit_latch.fd(), POLLIN, 0}};
    int rc = ::poll(fds, draining ? 2 : 3, draining ? kDrainIdleMs : -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;  // drain idle timeout
    if (fds[1].revents) break;
    if (!draining && fds[2].revents) draining = true;
    if (fds[0].revents == 0) continue;
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // EOF, or EIO from a pty whose other side is gone
    if (!write(std::string_view(buffer, static_cast<size_t>(n))).ok()) {
      state.Set(&SharedState::client_gone);
      break;
    }
  }
}

void PumpStdin(UniqueFd fd, CommandStreams& streams, SharedState& state) {
  uint8_t buffer[32 * 1024];
  while (true) {
    auto n = streams.ReadStdin(buffer);
    if (!n.ok()) {
      state.Set(&SharedState::client_gone);
      break;
    }
    if (*n == 0 || !fd.valid()) break;
    std::string_view data(reinterpret_cast<const char*>(buffer), *n);
    bool failed = false;
    while (!data.empty()) {
      pollfd fds[2] = {{fd.get(), POLLOUT, 0}, {state.cancel_latch.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
        failed = true;
        break;
      }
      if (fds[1].revents) {
        failed = true;
        break;
      }
      if (fds[0].revents & (POLLERR | POLLHUP)) {
        failed = true;
        break;
      }
      if (!(fds[0].revents & POLLOUT)) continue;
      ssize_t written = ::write(fd.get(), data.data(), data.size());
      if (written < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (written <= 0) {
        failed = true;
        break;
      }
      data.remove_prefix(static_cast<size_t>(written));
    }
    if (failed) break;  // the process closed its stdin: drop the rest, keep the session
  }
  // Closing our end is how the process (or the attached container) sees end of input.
}

}  // namespace

void RunCommandSession(ProcessSession& process, CommandStreams& streams,
                       const CommandOptions& options) {
  SharedState state;
  UniqueFd stdin_fd = process.TakeStdin();
  UniqueFd stdout_fd = process.TakeStdout();
  UniqueFd stderr_fd = process.TakeStderr();
  streams.OnClientGone([&state] { state.Set(&SharedState::client_gone); });

  Result<int> exit_code = Internal("process did not report an exit code");
  std::vector<std::thread> output_threads;
  std::vector<std::thread> input_threads;
  std::thread waiter([&] {
    exit_code = process.Wait();
    state.exit_latch.Signal();
    state.Set(&SharedState::exited);
  });
  auto start_output = [&](UniqueFd& fd, auto write) {
    if (!fd.valid()) return;
    output_threads.emplace_back([&state, fd = fd.get(), write] { PumpOutput(fd, state, write); });
  };
  start_output(stdout_fd, [&streams](std::string_view data) { return streams.WriteStdout(data); });
  start_output(stderr_fd, [&streams](std::string_view data) { return streams.WriteStderr(data); });
  if (options.stdin) {
    input_threads.emplace_back(
        [&, fd = std::move(stdin_fd)]() mutable { PumpStdin(std::move(fd), streams, state); });
  }
  if (options.tty) {
    input_threads.emplace_back([&] {
      while (true) {
        auto size = streams.ReadResize();
        if (!size.ok() || !size->has_value()) break;
        (void)process.Resize(**size);
      }
    });
  }

  {
    std::unique_lock lock(state.mu);
    state.cv.wait(lock, [&] { return state.exited || state.client_gone; });
  }
  bool cancelled = false;
  {
    std::lock_guard lock(state.mu);
    cancelled = !state.exited;
  }
  if (cancelled) {
    process.Cancel();
    state.cancel_latch.Signal();
  }
  waiter.join();
  for (auto& thread : output_threads) thread.join();
  if (!cancelled) {
    streams.CloseOutputs();
    (void)streams.WriteStatus(FinalStatus(options.protocol, exit_code));
  }
  // stdin and resize readers wait on the client, who may keep stdin open (a TTY exec ends when
  // the process does): tear the connection down to release them.
  state.cancel_latch.Signal();
  streams.Shutdown();
  for (auto& thread : input_threads) thread.join();
  streams.OnClientGone(nullptr);  // `state` dies with this frame
}

}  // namespace berth::streaming
