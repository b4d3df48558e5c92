#include "runtime/launcher/exec.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "base/child_reaper.h"
#include "base/fd_passing.h"
#include "base/process_util.h"
#include "base/spawn.h"
#include "base/unique_fd.h"
#include "runtime/cgroups.h"
#include "runtime/launcher/oci_spec.h"
#include "runtime/launcher/process_setup.h"
#include "security/apparmor.h"
#include "security/seccomp_compile.h"
#include "security/selinux.h"

extern char** environ;

namespace berth::runtime {
namespace {

int ExitStatusOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

[[noreturn]] void Fail(int code, const std::string& message) {
  std::string line = "berth-exec: " + message + "\n";
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
  ::_exit(code);
}

// Reads both pipes until EOF on both or the deadline; returns false on timeout.
bool Collect(int out_fd, int err_fd, const ExecSyncRequest& request, ExecSyncResult& result) {
  auto deadline = std::chrono::steady_clock::now() + request.timeout;
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.stdout_data, &result.stderr_data};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    int wait_ms = -1;
    if (request.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      wait_ms = static_cast<int>(left.count());
    }
    int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? false : true;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        fds[i].fd = -1;
        --open_count;
        continue;
      }
      size_t room = request.max_output - std::min(request.max_output, sinks[i]->size());
      sinks[i]->append(buffer, std::min(room, static_cast<size_t>(n)));
    }
  }
  return true;
}

}  // namespace

Result<ExecSyncResult> ExecSync(const ExecSyncRequest& request) {
  ExecStartRequest start = request.command;
  start.tty = false;
  start.stdin = false;
  start.stdout = true;
  start.stderr = true;
  BERTH_ASSIGN_OR_RETURN(StartedExec exec, StartExec(start));
  ExecSyncResult result;
  bool finished = Collect(exec.stdout_fd.get(), exec.stderr_fd.get(), request, result);
  if (!finished) StopExec(exec.pid);
  BERTH_ASSIGN_OR_RETURN(int exit_code, WaitExec(exec.pid));
  if (!finished) {
    return DeadlineExceeded("command timed out after " +
                            std::to_string(request.timeout.count() / 1000.0).substr(0, 5) + " s");
  }
  result.exit_code = exit_code;
  return result;
}

Result<StartedExec> StartExec(const ExecStartRequest& request) {
  if (request.args.empty()) return InvalidArgument("exec: no command given");
  StartedExec started;
  SpawnRequest spawn;
  std::vector<UniqueFd> child_ends;
  auto pipe_for = [&](int child_fd, bool child_reads, UniqueFd& ours) -> Result<void> {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
    ours.reset(child_reads ? fds[1] : fds[0]);
    child_ends.emplace_back(child_reads ? fds[0] : fds[1]);
    spawn.fds[child_fd] = child_ends.back().get();
    return Ok();
  };
  UniqueFd console, errors;
  if (request.tty) {
    // Until the pty exists, berth-exec's own errors come on a pipe; the console socket is fd 3.
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return Error::FromErrno(errno, "socketpair");
    }
    console.reset(pair[0]);
    child_ends.emplace_back(pair[1]);
    spawn.fds.push_back(pair[1]);
    BERTH_TRY(pipe_for(2, false, errors));
  } else {
    if (request.stdin) BERTH_TRY(pipe_for(0, true, started.stdin_fd));
    if (request.stdout) BERTH_TRY(pipe_for(1, false, started.stdout_fd));
    if (request.stderr) BERTH_TRY(pipe_for(2, false, started.stderr_fd));
  }
  spawn.argv = {request.exec_binary, request.bundle_dir, std::to_string(request.container_pid),
                request.cgroup_path};
  if (request.tty) spawn.argv.push_back("--tty");
  spawn.argv.push_back("--");
  spawn.argv.insert(spawn.argv.end(), request.args.begin(), request.args.end());
  // Its own session: a timeout or a cancel kills its whole process group (kill(-pid)).
  spawn.new_session = true;
  auto spawned = Spawn(spawn);
  child_ends.clear();
  if (!spawned) return std::move(spawned).error();
  started.pid = *spawned;
  if (!request.tty) return started;
  char tag;
  std::vector<UniqueFd> fds;
  auto received = ReceiveWithFds(console.get(), &tag, 1, fds, 1);
  if (!received || *received != 1 || fds.size() != 1) {
    std::string message(4096, '\0');
    ssize_t n = ::read(errors.get(), message.data(), message.size());
    message.resize(n > 0 ? static_cast<size_t>(n) : 0);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    ::kill(-started.pid, SIGKILL);
    (void)WaitExec(started.pid);
    return FailedPrecondition(message.empty() ? "exec: no terminal was set up" : message);
  }
  started.pty_master = std::move(fds[0]);
  started.stdout_fd.reset(::fcntl(started.pty_master.get(), F_DUPFD_CLOEXEC, 3));
  if (request.stdin) started.stdin_fd.reset(::fcntl(started.pty_master.get(), F_DUPFD_CLOEXEC, 3));
  return started;
}

Result<void> RequestExecStop(pid_t pid) {
  if (::kill(pid, SIGTERM) != 0) return Error::FromErrno(errno, "stop exec " + std::to_string(pid));
  return Ok();
}

void StopExec(pid_t pid) {
  // berth-exec kills the command's group and reaps it; if it does not end in time, everything
  // of its own group goes (the command then dies of its parent-death signal).
  (void)RequestExecStop(pid);
  for (int i = 0; i < 200; ++i) {  // up to 2 s; WNOWAIT: the caller still reaps it
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      return;
    ::usleep(10000);
  }
  ::kill(-pid, SIGKILL);
}

Result<int> WaitExec(pid_t pid) {
  BERTH_ASSIGN_OR_RETURN(int status, WaitClaimedChild(pid));
  return ExitStatusOf(status);
}

namespace {

volatile sig_atomic_t g_command_group = 0;

void KillCommand(int) {
  if (g_command_group > 0) ::kill(-g_command_group, SIGKILL);
}

constexpr int kTerminationSignals[] = {SIGTERM, SIGINT, SIGHUP};

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kTerminationSignals) sigaddset(&set, sig);
  return set;
}

// Installs KillCommand for the termination signals and holds them until the command's group
// exists (UnblockTermination).
void BlockTermination() {
  struct sigaction action {};
  action.sa_handler = KillCommand;
  for (int sig : kTerminationSignals) ::sigaction(sig, &action, nullptr);
  sigset_t set = TerminationSignals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

void UnblockTermination() {
  sigset_t set = TerminationSignals();
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace

// The pty of a tty exec: opened in the container's devpts (we are in its mount namespace), the
// master sent to berthd over fd 3, the slave made the controlling terminal and stdio.
Result<void> OpenExecConsole(uid_t uid) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return Error::FromErrno(errno, "open /dev/ptmx in the container");
  UniqueFd master_owner(master);
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) return Error::FromErrno(errno, "unlock pty");
  UniqueFd slave(::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return Error::FromErrno(errno, "open pty slave");
  (void)!::fchown(slave.get(), uid, static_cast<gid_t>(-1));
  BERTH_TRY(SendWithFds(3, "T", &master, 1));
  if (::setsid() < 0) return Error::FromErrno(errno, "setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0)
    return Error::FromErrno(errno, "set controlling terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave.get(), fd) < 0) return Error::FromErrno(errno, "pty stdio");
  return Ok();
}

namespace {

// berth-exec joins the container's cgroup in every hierarchy (one that is gone is skipped).
void JoinContainerCgroup(const std::string& cgroup_path) {
  std::string self = std::to_string(::getpid());
  Cgroups cgroups = Cgroups::Probe();
  std::vector<std::string> mountpoints;
  for (const auto& hierarchy : cgroups.v1()) mountpoints.push_back(hierarchy.second);
  if (!cgroups.v2().empty()) mountpoints.push_back(cgroups.v2());
  for (const auto& mountpoint : mountpoints) {
    int fd = ::open((mountpoint + cgroup_path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t ignored = ::write(fd, self.data(), self.size());
    (void)ignored;
    ::close(fd);
  }
}

// Opens every namespace of the container's init first (the paths are in the host's /proc), then
// joins them; mount last, since it changes what paths mean. The user namespace first (a pod's
// own, when it has one): the others belong to it.
void JoinContainerNamespaces(pid_t container_pid) {
  const char* kinds[] = {"user", "ipc", "uts", "net", "pid", "mnt"};
  int fds[6];
  for (int i = 0; i < 6; ++i) {
    std::string path = "/proc/" + std::to_string(container_pid) + "/ns/" + kinds[i];
    fds[i] = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) Fail(126, "container process " + std::to_string(container_pid) + " is gone");
  }
  struct stat own {
  }, theirs{};
  bool same_user = ::stat("/proc/self/ns/user", &own) == 0 && ::fstat(fds[0], &theirs) == 0 &&
                   own.st_ino == theirs.st_ino && own.st_dev == theirs.st_dev;
  for (int i = 0; i < 6; ++i) {
    // Joining one's own user namespace is EINVAL.
    if (!(i == 0 && same_user) && ::setns(fds[i], 0) != 0)
      Fail(126, std::string("join ") + kinds[i] + " namespace: " + std::strerror(errno));
    ::close(fds[i]);
  }
}

// The forked command, inside the container's namespaces: terminal, cwd, LSM labels, seccomp,
// credentials and capabilities in the container init's order, then exec. `parent` is berth-exec.
[[noreturn]] void ExecCommand(const oci::Process& process,
                              const std::optional<security::SeccompProgram>& seccomp, bool tty,
                              pid_t parent) {
  if (tty) {
    auto console = OpenExecConsole(process.uid);
    if (!console) Fail(126, console.error().message());
  }
  if (::chdir(process.cwd.c_str()) != 0)
    Fail(126, "chdir " + process.cwd + ": " + std::strerror(errno));
  auto executable = launcher_internal::FindExecutable(process.args, process.env);
  if (!executable) Fail(127, executable.error().message());
  if (!process.apparmor_profile.empty()) {
    auto applied = security::PrepareApplyOnExec(process.apparmor_profile);
    if (!applied) Fail(126, applied.error().message());
  }
  if (!process.selinux_label.empty()) {
    auto labelled = security::SetExecLabel(process.selinux_label);
    if (!labelled) Fail(126, labelled.error().message());
  }
  // As in the container's init: seccomp before the capability drop unless no_new_privs is set.
  bool seccomp_first = seccomp && !process.no_new_privileges;
  if (seccomp_first && security::InstallSeccompRaw(*seccomp) != 0)
    Fail(126, "install seccomp filter");
  auto user =
      launcher_internal::SetUserAndCapabilities(process, launcher_internal::LastCapability());
  if (!user) Fail(126, user.error().message());
  auto nnp = launcher_internal::SetNoNewPrivileges(process);
  if (!nnp) Fail(126, nnp.error().message());
  // Dies with berth-exec (a streaming client that went away kills berth-exec); set after the
  // credential change, which would clear it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::getppid() != parent) ::_exit(137);
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  if (seccomp && !seccomp_first && security::InstallSeccompRaw(*seccomp) != 0)
    Fail(126, "install seccomp filter");
  auto failed = launcher_internal::ExecProcess(process.args, process.env, *executable);
  Fail(126, failed.error().message());
}

}  // namespace

void RunExecInContainer(const std::string& bundle_dir, pid_t container_pid,
                        const std::string& cgroup_path, const std::vector<std::string>& args,
                        bool tty) {
  // Nobody may open /proc/<pid>/exe (the host's berth-exec) or our fds once we are inside.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  auto spec = oci::LoadBundle(bundle_dir);
  if (!spec) Fail(126, spec.error().message());
  oci::Process process = spec->process;
  process.args = args;
  // Here, before the mount namespace changes: the container's /sys need not show securityfs.
  if (auto supported = security::CheckApplyOnExecSupported(process.apparmor_profile); !supported) {
    Fail(126, supported.error().message());
  }
  JoinContainerCgroup(cgroup_path);
  JoinContainerNamespaces(container_pid);
  std::optional<security::SeccompProgram> seccomp;
  if (spec->seccomp) {
    auto compiled = security::CompileSeccomp(*spec->seccomp);
    if (!compiled) Fail(126, "seccomp: " + compiled.error().message());
    seccomp = std::move(*compiled);
  }
  // The PID namespace applies to children: the command runs in a child, in a process group of
  // its own. SIGTERM to berth-exec (a timeout, a streaming client gone) kills that group, and
  // berth-exec reaps the command before it exits: killed together, the command would end up a
  // zombie of the container's PID 1, which need not reap it.
  BlockTermination();
  pid_t child = ::fork();
  if (child < 0) Fail(126, std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    if (!tty) ::setpgid(0, 0);  // with a tty, setsid (OpenExecConsole) makes the group
    UnblockTermination();
    ExecCommand(process, seccomp, tty, ::getppid());
  }
  if (!tty) ::setpgid(child, child);  // also here: no signal may find the group not made yet
  g_command_group = child;
  UnblockTermination();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  ::_exit(ExitStatusOf(status));
}

}  // namespace berth::runtime
