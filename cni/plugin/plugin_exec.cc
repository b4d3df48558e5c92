#include "cni/plugin/plugin_exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/child_reaper.h"
#include "base/process_util.h"
#include "base/spawn.h"
#include "base/unique_fd.h"

namespace berth::cni {
namespace {

using Clock = std::chrono::steady_clock;

// The plugin's stdin as an in-memory file: no pipe to feed while also reading its output, and no
// SIGPIPE when a plugin exits without reading its config.
Result<UniqueFd> MakeStdin(std::string_view input) {
  UniqueFd fd(::memfd_create("cni-plugin-stdin", MFD_CLOEXEC));
  if (!fd) return Error::FromErrno(errno, "create plugin stdin");
  while (!input.empty()) {
    ssize_t n = ::write(fd.get(), input.data(), input.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "write plugin stdin");
    input.remove_prefix(static_cast<size_t>(n));
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Error::FromErrno(errno, "rewind plugin stdin");
  return fd;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "create pipe");
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  ::fcntl(pipe.read.get(), F_SETFL, O_NONBLOCK);
  return pipe;
}

// One output stream of the plugin, read up to a cap.
struct Stream {
  UniqueFd fd;
  std::string* sink;
  size_t cap;
  bool overflow = false;

  // Reads what is there now; false at EOF or error.
  bool Drain() {
    char buffer[16384];
    while (true) {
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno == EAGAIN;
      if (n == 0) return false;
      size_t room = cap > sink->size() ? cap - sink->size() : 0;
      sink->append(buffer, std::min(room, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) > room) overflow = true;
    }
  }
};

// glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage, so C++ cannot link to it.
int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

void KillAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  (void)WaitClaimedChild(pid);
}

// Waits for the child to exit (pidfd readable) until the deadline; false on timeout.
bool WaitExit(int pidfd, Clock::time_point deadline) {
  if (pidfd < 0) return true;  // no pidfd: waitpid blocks instead
  pollfd entry{pidfd, POLLIN, 0};
  while (true) {
    int rc = ::poll(&entry, 1, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    return rc != 0;
  }
}

enum class Outcome { kDone, kTimeout, kOverflow };

// Reads stdout and stderr until both close or the plugin exits; stops at the deadline or when
// stdout outgrows its cap. Exit is watched through a pidfd because a helper the plugin left behind
// may hold the pipes open after the plugin itself is gone.
Outcome Collect(Stream& out, Stream& err, int pidfd, Clock::time_point deadline) {
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[3] = {{out_open ? out.fd.get() : -1, POLLIN, 0},
                     {err_open ? err.fd.get() : -1, POLLIN, 0},
                     {pidfd, POLLIN, 0}};
    int rc = ::poll(fds, 3, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return Outcome::kTimeout;
    bool exited = pidfd >= 0 && (fds[2].revents & POLLIN);
    if (out_open && (fds[0].revents || exited)) out_open = out.Drain();
    if (err_open && (fds[1].revents || exited)) err_open = err.Drain();
    if (out.overflow) return Outcome::kOverflow;
    if (exited) break;
  }
  return WaitExit(pidfd, deadline) ? Outcome::kDone : Outcome::kTimeout;
}

}  // namespace

Result<ExecOutput> ExecPlugin(const std::string& path, const std::vector<std::string>& env,
                              std::string_view input, const ExecLimits& limits) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd stdin_fd, MakeStdin(input));
  BERTH_ASSIGN_OR_RETURN(Pipe out_pipe, MakePipe());
  BERTH_ASSIGN_OR_RETURN(Pipe err_pipe, MakePipe());
  // Its own process group, so that a timeout kills the plugin's helpers too.
  SpawnRequest spawn{
      {path}, env, {stdin_fd.get(), out_pipe.write.get(), err_pipe.write.get()}, false, true};
  BERTH_ASSIGN_OR_RETURN(pid_t pid, Spawn(spawn));
  // Our copies of the child's ends must go, or EOF never comes.
  stdin_fd.reset();
  out_pipe.write.reset();
  err_pipe.write.reset();
  UniqueFd pidfd(PidfdOpen(pid));
  auto deadline = Clock::now() + limits.timeout;

  ExecOutput output;
  Stream out{std::move(out_pipe.read), &output.out, limits.max_stdout};
  Stream err{std::move(err_pipe.read), &output.err, limits.max_stderr};
  Outcome outcome = Collect(out, err, pidfd.get(), deadline);
  if (outcome != Outcome::kDone) {
    KillAndReap(pid);
    if (outcome == Outcome::kTimeout) {
      return DeadlineExceeded(path + " did not finish within " +
                              std::to_string(limits.timeout.count()) + " ms and was killed");
    }
    return Error(ErrorCode::kResourceExhausted,
                 path + " printed more than " + std::to_string(limits.max_stdout) + " bytes");
  }
  auto waited = WaitClaimedChild(pid);
  if (!waited)
    return Error(waited.error().code(), "wait for " + path + ": " + waited.error().message());
  int status = *waited;
  if (WIFEXITED(status)) output.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) output.term_signal = WTERMSIG(status);
  return output;
}

}  // namespace berth::cni
