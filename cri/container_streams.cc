// Glue between the streaming server and the runtime: sessions over berth-exec processes and
// monitor attaches, and pod ports dialled in the pod's network namespace. The kernel work lives
// in runtime/ (terminal.h, localhost_dial.h, launcher/exec.h, launcher/monitor.h).
#include "cri/container_streams.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "cri/rpc_helpers.h"
#include "runtime/launcher/monitor.h"
#include "runtime/localhost_dial.h"
#include "runtime/terminal.h"

namespace berth::cri {
namespace {

// A berth-exec process. Cancel asks it to kill the command's process group and reap it; the
// command also dies with berth-exec (PR_SET_PDEATHSIG).
class ExecSession final : public streaming::ProcessSession {
 public:
  explicit ExecSession(runtime::StartedExec exec) : exec_(std::move(exec)) {}
  ~ExecSession() override {
    Cancel();
    std::lock_guard lock(mutex_);
    if (!reaped_) (void)runtime::WaitExec(exec_.pid);
  }
  UniqueFd TakeStdin() override { return std::move(exec_.stdin_fd); }
  UniqueFd TakeStdout() override { return std::move(exec_.stdout_fd); }
  UniqueFd TakeStderr() override { return std::move(exec_.stderr_fd); }
  Result<void> Resize(streaming::TerminalSize size) override {
    if (!exec_.pty_master) return Ok();  // no terminal: nothing to resize
    return runtime::ResizeTerminal(exec_.pty_master.get(), size.width, size.height);
  }
  Result<int> Wait() override {
    auto code = runtime::WaitExec(exec_.pid);
    std::lock_guard lock(mutex_);
    reaped_ = true;
    return code;
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    // Only while not yet reaped is the pid still ours.
    if (!reaped_) (void)runtime::RequestExecStop(exec_.pid);
  }

 private:
  runtime::StartedExec exec_;
  std::mutex mutex_;
  bool reaped_ = false;
};

// An attach: the monitor writes into / reads from pipes whose other ends are here.
class AttachSession final : public streaming::ProcessSession {
 public:
  AttachSession(UniqueFd control, UniqueFd in, UniqueFd out, UniqueFd err,
                pod::ContainerManager& containers, std::string id)
      : control_(std::move(control)),
        in_(std::move(in)),
        out_(std::move(out)),
        err_(std::move(err)),
        containers_(containers),
        id_(std::move(id)) {}
  UniqueFd TakeStdin() override { return std::move(in_); }
  UniqueFd TakeStdout() override { return std::move(out_); }
  UniqueFd TakeStderr() override { return std::move(err_); }
  Result<void> Resize(streaming::TerminalSize size) override {
    return runtime::SendAttachResize(control_.get(), size.width, size.height);
  }
  // The monitor tells the exit code when the container ends; its closing alone means a detach.
  Result<int> Wait() override {
    if (auto code = runtime::WaitForAttachEnd(control_.get())) return *code;
    auto container = containers_.Get(id_);
    if (container && container->state == pod::ContainerState::kExited) return container->exit_code;
    return 0;
  }
  void Cancel() override { runtime::InterruptAttach(control_.get()); }

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
  return we_write ? PipePair{UniqueFd(fds[1]), UniqueFd(fds[0])}
                  : PipePair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

Result<std::unique_ptr<streaming::ProcessSession>> ContainerStreams::Exec(
    const streaming::ExecRequest& request) {
  BERTH_ASSIGN_OR_RETURN(
      runtime::StartedExec exec,
      containers_.StartExec(request.container_id, request.cmd, request.tty, request.stdin,
                            request.stdout, request.stderr && !request.tty));
  return std::unique_ptr<streaming::ProcessSession>(new ExecSession(std::move(exec)));
}

Result<std::unique_ptr<streaming::ProcessSession>> ContainerStreams::Attach(
    const streaming::AttachRequest& request) {
  BERTH_ASSIGN_OR_RETURN(pod::Container container, containers_.Get(request.container_id));
  PipePair in, out, err;
  if (request.stdin && container.config.stdin) {
    BERTH_ASSIGN_OR_RETURN(in, MakePipe(true));
  }
  if (request.stdout) {
    BERTH_ASSIGN_OR_RETURN(out, MakePipe(false));
  }
  if (request.stderr && !container.config.tty) {
    BERTH_ASSIGN_OR_RETURN(err, MakePipe(false));
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd control, containers_.Attach(container.id, in.theirs.get(),
                                                              out.theirs.get(), err.theirs.get()));
  // Only the monitor may hold the far ends now, so that EOF travels.
  return std::unique_ptr<streaming::ProcessSession>(
      new AttachSession(std::move(control), std::move(in.ours), std::move(out.ours),
                        std::move(err.ours), containers_, container.id));
}

Result<UniqueFd> ContainerStreams::DialPodPort(const std::string& pod_id, int32_t port) {
  BERTH_ASSIGN_OR_RETURN(uint16_t checked, CheckPort(port));
  BERTH_ASSIGN_OR_RETURN(pod::Sandbox sandbox, sandboxes_.Get(pod_id));
  auto dialled = sandbox.HasOwnNetwork()
                     ? runtime::DialLocalhostInNetworkNamespace(sandbox.NetnsPath(), checked)
                     : runtime::DialLocalhost(checked);
  if (!dialled) return std::move(dialled).error().Wrap("pod " + sandbox.id);
  return dialled;
}

}  // namespace berth::cri
