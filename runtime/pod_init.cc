#include "runtime/pod_init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/child_reaper.h"
#include "base/file_util.h"
#include "base/process_util.h"
#include "base/unique_fd.h"

namespace berth::runtime {

Result<ProcessIdentity> StartPodInit(const std::string& pod_id, const std::string& userns,
                                     const std::string& netns, const std::string& ipcns,
                                     const std::string& utsns) {
  std::string binary = ExecutableSibling("berth-pod-init");
  if (!PathExists(binary)) return FailedPrecondition(binary + " is missing; reinstall berth");
  // Everything the child needs is opened here: after fork only async-signal-safe calls.
  // The user namespace first: the new PID namespace is then owned by it.
  UniqueFd namespaces[4];
  const std::string* paths[4] = {&userns, &netns, &ipcns, &utsns};
  for (int i = 0; i < 4; ++i) {
    if (paths[i]->empty()) continue;
    BERTH_ASSIGN_OR_RETURN(namespaces[i], OpenFile(*paths[i], O_RDONLY));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  // Closed by the init's execve (close-on-exec) or its exit: EOF means it is berth-pod-init now.
  int exec_fds[2];
  if (::pipe2(exec_fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd exec_read(exec_fds[0]), exec_write(exec_fds[1]);
  pid_t child = ForkClaimedChild();
  if (child < 0) return Error::FromErrno(errno, "fork");
  if (child == 0) {
    // Detach from berthd: own session, pod namespaces, new PID namespace; the grandchild is its
    // PID 1 and the child exits at once, so init is nobody's child but the host's.
    ::setsid();
    for (auto& ns : namespaces) {
      if (ns.valid() && ::setns(ns.get(), 0) != 0) ::_exit(10);
    }
    if (::unshare(CLONE_NEWPID) != 0) ::_exit(11);
    pid_t init = ::fork();
    if (init < 0) ::_exit(12);
    if (init == 0) {
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      // The pod's ID in its command line: a berthd that crashed before recording the pod finds
      // (and ends) it at its next start.
      char* argv[] = {const_cast<char*>("berth-pod-init"), const_cast<char*>(pod_id.c_str()),
                      nullptr};
      char* envp[] = {nullptr};
      ::execve(binary.c_str(), argv, envp);
      ::_exit(127);
    }
    ssize_t ignored = ::write(write_end.get(), &init, sizeof init);
    (void)ignored;
    ::_exit(0);
  }
  write_end.reset();
  exec_write.reset();
  pid_t init = 0;
  ssize_t n = ::read(read_end.get(), &init, sizeof init);
  int status = WaitClaimedChild(child).value_or(-1);
  if (n != sizeof init || init <= 0) {
    return Internal("start pod init: setup failed (exit code " +
                    std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  char ignored;
  while (::read(exec_read.get(), &ignored, 1) < 0 && errno == EINTR) {
  }
  uint64_t start_time = ProcessStartTime(init);
  if (start_time == 0) return Internal("start pod init: " + binary + " exited at once");
  return ProcessIdentity{init, start_time};
}

bool StopPodInit(const ProcessIdentity& init) {
  // It is not our child (it was double-forked): wait on a pidfd until it is gone.
  return KillProcess(init, std::chrono::seconds(5));
}

}  // namespace berth::runtime
