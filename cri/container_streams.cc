#include "cri/container_streams.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <mutex>

#include "base/namespaces.h"

namespace berth::cri {
namespace {

Result<void> ResizePty(int pty, streaming::TerminalSize size) {
  winsize window{};
  window.ws_col = size.width;
  window.ws_row = size.height;
  if (pty < 0) return Ok();  // no terminal: nothing to resize
  if (::ioctl(pty, TIOCSWINSZ, &window) != 0) return Error::FromErrno(errno, "resize terminal");
  return Ok();
}

// A berth-exec process. Cancel asks it to kill the command's process group and reap it; the
// command also dies with berth-exec (PR_SET_PDEATHSIG).
class ExecSession final : public streaming::ProcessSession {
 public:
  explicit ExecSession(StartedExec exec) : exec_(std::move(exec)) {}
  ~ExecSession() override {
    Cancel();
    std::lock_guard lock(mutex_);
    if (!reaped_) (void)WaitExec(exec_.pid);
  }
  UniqueFd TakeStdin() override { return std::move(exec_.stdin_fd); }
  UniqueFd TakeStdout() override { return std::move(exec_.stdout_fd); }
  UniqueFd TakeStderr() override { return std::move(exec_.stderr_fd); }
  Result<void> Resize(streaming::TerminalSize size) override { return ResizePty(exec_.pty_master.get(), size); }
  Result<int> Wait() override {
    auto code = WaitExec(exec_.pid);
    std::lock_guard lock(mutex_);
    reaped_ = true;
    return code;
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    if (!reaped_) ::kill(exec_.pid, SIGTERM);  // not yet reaped: the pid is still ours; berth-exec
                                               // kills the command and reaps it (see StopExec)
  }

 private:
  StartedExec exec_;
  std::mutex mutex_;
  bool reaped_ = false;
};

// An attach: the monitor writes into / reads from pipes whose other ends are here.
class AttachSession final : public streaming::ProcessSession {
 public:
  AttachSession(UniqueFd control, UniqueFd in, UniqueFd out, UniqueFd err, pod::ContainerManager& containers,
                std::string id)
      : control_(std::move(control)), in_(std::move(in)), out_(std::move(out)), err_(std::move(err)),
        containers_(containers), id_(std::move(id)) {}
  UniqueFd TakeStdin() override { return std::move(in_); }
  UniqueFd TakeStdout() override { return std::move(out_); }
  UniqueFd TakeStderr() override { return std::move(err_); }
  Result<void> Resize(streaming::TerminalSize size) override {
    std::string line = "resize " + std::to_string(size.width) + " " + std::to_string(size.height) + "\n";
    if (::send(control_.get(), line.data(), line.size(), MSG_NOSIGNAL) < 0) return Error::FromErrno(errno, "resize");
    return Ok();
  }
  // The monitor says "exit <code>" when the container ends; EOF alone means a detach.
  Result<int> Wait() override {
    std::string text;
    char buffer[256];
    for (;;) {
      ssize_t n = ::read(control_.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > 4096) break;
    }
    int code = 0;
    if (std::sscanf(text.c_str(), "exit %d", &code) == 1) return code;
    auto container = containers_.Get(id_);
    if (container && container->state == pod::ContainerState::kExited) return container->exit_code;
    return 0;
  }
  void Cancel() override { ::shutdown(control_.get(), SHUT_RDWR); }

 private:
  UniqueFd control_, in_, out_, err_;
  pod::ContainerManager& containers_;
  std::string id_;
};

struct PipePair {
  UniqueFd ours, theirs;
};

Result<PipePair> MakePipe(bool we_write) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  return we_write ? PipePair{UniqueFd(fds[1]), UniqueFd(fds[0])} : PipePair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

Result<std::unique_ptr<streaming::ProcessSession>> ContainerStreams::Exec(const streaming::ExecRequest& request) {
  BERTH_ASSIGN_OR_RETURN(StartedExec exec,
                         containers_.StartExec(request.container_id, request.cmd, request.tty, request.stdin,
                                               request.stdout, request.stderr && !request.tty));
  return std::unique_ptr<streaming::ProcessSession>(new ExecSession(std::move(exec)));
}

Result<std::unique_ptr<streaming::ProcessSession>> ContainerStreams::Attach(const streaming::AttachRequest& request) {
  BERTH_ASSIGN_OR_RETURN(pod::Container container, containers_.Get(request.container_id));
  PipePair in, out, err;
  if (request.stdin && container.config.stdin) { BERTH_ASSIGN_OR_RETURN(in, MakePipe(true)); }
  if (request.stdout) { BERTH_ASSIGN_OR_RETURN(out, MakePipe(false)); }
  if (request.stderr && !container.config.tty) { BERTH_ASSIGN_OR_RETURN(err, MakePipe(false)); }
  BERTH_ASSIGN_OR_RETURN(UniqueFd control, containers_.Attach(container.id, in.theirs.get(), out.theirs.get(),
                                                              err.theirs.get()));
  // Only the monitor may hold the far ends now, so that EOF travels.
  return std::unique_ptr<streaming::ProcessSession>(new AttachSession(
      std::move(control), std::move(in.ours), std::move(out.ours), std::move(err.ours), containers_, container.id));
}

Result<UniqueFd> ContainerStreams::DialPodPort(const std::string& pod_id, int32_t port) {
  if (port <= 0 || port > 65535) return InvalidArgument("port " + std::to_string(port) + " is out of range");
  BERTH_ASSIGN_OR_RETURN(pod::Sandbox sandbox, sandboxes_.Get(pod_id));
  UniqueFd connected;
  auto dial = [&]() -> Result<void> {
    // A socket belongs to the network namespace it was made in, whichever thread uses it later.
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return Error::FromErrno(errno, "socket");
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      connected = std::move(sock);
      return Ok();
    }
    int v4_errno = errno;
    sockaddr_in6 address6{};
    address6.sin6_family = AF_INET6;
    address6.sin6_port = htons(static_cast<uint16_t>(port));
    address6.sin6_addr = in6addr_loopback;
    UniqueFd sock6(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock6 && ::connect(sock6.get(), reinterpret_cast<sockaddr*>(&address6), sizeof address6) == 0) {
      connected = std::move(sock6);
      return Ok();
    }
    return Error::FromErrno(v4_errno, "connect to localhost:" + std::to_string(port) + " in pod " + sandbox.id);
  };
  if (sandbox.HasOwnNetwork()) {
    BERTH_TRY(RunInNamespace(sandbox.NetnsPath(), CLONE_NEWNET, dial));
  } else {
    BERTH_TRY(dial());
  }
  return connected;
}

}  // namespace berth::cri
