#include "pod/sandbox_init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/file_util.h"
#include "base/process_util.h"

namespace berth::pod {
uint64_t ProcessStartTime(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int index = 3; fields >> field; ++index) {
    // A zombie (or dead) process is gone for our purposes: the host's init reaps it late.
    if (index == 3 && (field == "Z" || field == "X")) return 0;
    if (index == 22) return std::strtoull(field.c_str(), nullptr, 10);
  }
  return 0;
}

Result<InitProcess> StartPodInit(const std::string& userns, const std::string& netns, const std::string& ipcns,
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
  pid_t child = ::fork();
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
      char* argv[] = {const_cast<char*>("berth-pod-init"), nullptr};
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
  int status = 0;
  ::waitpid(child, &status, 0);
  if (n != sizeof init || init <= 0) {
    return Internal("start pod init: setup failed (exit code " +
                    std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  char ignored;
  while (::read(exec_read.get(), &ignored, 1) < 0 && errno == EINTR) {
  }
  uint64_t start_time = ProcessStartTime(init);
  if (start_time == 0) return Internal("start pod init: " + binary + " exited at once");
  return InitProcess{init, start_time};
}

bool PodInitAlive(const InitProcess& init) {
  if (init.pid <= 0) return false;
  uint64_t start = ProcessStartTime(init.pid);
  return start != 0 && start == init.start_time;
}

void StopPodInit(const InitProcess& init) {
  if (!PodInitAlive(init)) return;
  ::kill(init.pid, SIGKILL);
  // It is not our child (it was double-forked); wait until it is gone from /proc.
  for (int i = 0; i < 100 && PodInitAlive(init); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace berth::pod
