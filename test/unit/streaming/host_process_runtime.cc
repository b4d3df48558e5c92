#include "test/unit/streaming/host_process_runtime.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>

#include <cstdlib>

namespace berth::streaming::testing {
namespace {

class HostProcessSession : public ProcessSession {
 public:
  HostProcessSession(HostProcessRuntime& runtime, pid_t pid, UniqueFd in, UniqueFd out,
                     UniqueFd err, UniqueFd pty)
      : runtime_(runtime),
        pid_(pid),
        in_(std::move(in)),
        out_(std::move(out)),
        err_(std::move(err)),
        pty_(std::move(pty)) {}
  ~HostProcessSession() override {
    if (!reaped_) {
      ::kill(-pid_, SIGKILL);
      (void)Wait();
    }
  }
  UniqueFd TakeStdin() override { return std::move(in_); }
  UniqueFd TakeStdout() override { return std::move(out_); }
  UniqueFd TakeStderr() override { return std::move(err_); }
  Result<void> Resize(TerminalSize size) override {
    if (!pty_.valid()) return FailedPrecondition("no tty");
    winsize ws{};
    ws.ws_col = size.width;
    ws.ws_row = size.height;
    if (::ioctl(pty_.get(), TIOCSWINSZ, &ws) != 0) return Error::FromErrno(errno, "TIOCSWINSZ");
    return Ok();
  }
  Result<int> Wait() override {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) {
      if (errno != EINTR) return Error::FromErrno(errno, "waitpid");
    }
    reaped_ = true;
    runtime_.Forget(pid_);
    pty_.reset();
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }
  void Cancel() override { ::kill(-pid_, SIGKILL); }

 private:
  HostProcessRuntime& runtime_;
  pid_t pid_;
  UniqueFd in_, out_, err_, pty_;
  bool reaped_ = false;
};

}  // namespace

Result<std::unique_ptr<ProcessSession>> HostProcessRuntime::Exec(const ExecRequest& request) {
  std::string command;
  for (const auto& arg : request.cmd) command += (command.empty() ? "" : " ") + arg;
  if (request.cmd.size() == 3 && request.cmd[0] == "/bin/sh" && request.cmd[1] == "-c")
    command = request.cmd[2];
  return Start(command, request.tty, request.stdin, request.stdout, request.stderr);
}

Result<std::unique_ptr<ProcessSession>> HostProcessRuntime::Attach(const AttachRequest& request) {
  return Start(request.container_id, request.tty, request.stdin, request.stdout, request.stderr);
}

Result<std::unique_ptr<ProcessSession>> HostProcessRuntime::Start(const std::string& command,
                                                                  bool tty, bool in, bool out,
                                                                  bool err) {
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  UniqueFd master;
  std::string slave_name;
  if (tty) {
    master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master.valid() || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
      return Error::FromErrno(errno, "posix_openpt");
    }
    slave_name = ::ptsname(master.get());
  } else {
    if (in && ::pipe2(in_pipe, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
    if (out && ::pipe2(out_pipe, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
    if (err && ::pipe2(err_pipe, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  }
  pid_t pid = ::fork();
  if (pid < 0) return Error::FromErrno(errno, "fork");
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    if (tty) {
      int slave = ::open(slave_name.c_str(), O_RDWR);
      ::ioctl(slave, TIOCSCTTY, 0);
      ::dup2(slave, 0);
      ::dup2(slave, 1);
      ::dup2(slave, 2);
    } else {
      ::dup2(in ? in_pipe[0] : null, 0);
      ::dup2(out ? out_pipe[1] : null, 1);
      ::dup2(err ? err_pipe[1] : null, 2);
    }
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  {
    std::lock_guard lock(mu_);
    live_.insert(pid);
    ++started_;
  }
  auto keep = [](int fd) { return UniqueFd(fd); };
  if (tty) {
    UniqueFd in_fd(in ? ::fcntl(master.get(), F_DUPFD_CLOEXEC, 0) : -1);
    UniqueFd out_fd(::fcntl(master.get(), F_DUPFD_CLOEXEC, 0));
    return std::unique_ptr<ProcessSession>(new HostProcessSession(
        *this, pid, std::move(in_fd), std::move(out_fd), UniqueFd(), std::move(master)));
  }
  if (in) ::close(in_pipe[0]);
  if (out) ::close(out_pipe[1]);
  if (err) ::close(err_pipe[1]);
  return std::unique_ptr<ProcessSession>(new HostProcessSession(
      *this, pid, keep(in_pipe[1]), keep(out_pipe[0]), keep(err_pipe[0]), UniqueFd()));
}

Result<UniqueFd> HostProcessRuntime::DialPodPort(const std::string&, int32_t port) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Error::FromErrno(errno, "connect to 127.0.0.1:" + std::to_string(port));
  }
  return socket;
}

std::set<pid_t> HostProcessRuntime::live_pids() const {
  std::lock_guard lock(mu_);
  return live_;
}

int HostProcessRuntime::started() const {
  std::lock_guard lock(mu_);
  return started_;
}

void HostProcessRuntime::Forget(pid_t pid) {
  std::lock_guard lock(mu_);
  live_.erase(pid);
}

}  // namespace berth::streaming::testing
