// The container's init: the cloned child. Its steps run in the order of the OCI runtime spec's
// lifecycle and of runc/crun; each reports a precise error through the report pipe, after which
// the child exits. Before execve the child is not dumpable, so no other process (in a shared pid
// namespace) can open /proc/<pid>/exe — which still points at the host's berth-monitor binary
// until execve — or its fds; and every fd beyond stdio is closed on exec, so nothing of the host
// leaks into the container (the /proc/self/exe and leaked-fd escape classes, CVE-2019-5736 and
// CVE-2024-21626).
#include "runtime/launcher/container_init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/fd_passing.h"
#include "base/file_util.h"
#include "base/sysctl.h"
#include "runtime/launcher/process_setup.h"
#include "security/apparmor.h"
#include "security/selinux.h"

namespace berth::runtime::launcher_internal {
namespace {

Result<void> WriteAll(int fd, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::FromErrno(errno, "write");
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return Ok();
}

void ReportError(int report_fd, const Error& error) {
  // One write under PIPE_BUF arrives whole. append(): GCC 12 warns falsely about "E" + ....
  std::string frame = "E";
  frame.append(error.ToWire(), 0, 4000);
  (void)WriteAll(report_fd, frame.data(), frame.size());
}

// Reads the parent's next go-ahead byte; EOF means the parent gave up on this container.
Result<void> WaitForParent(int start_fd, const char* what) {
  char byte = 0;
  ssize_t n;
  do n = ::read(start_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    return Error(ErrorCode::kCancelled, std::string("wait for ") + what + ": the caller went away");
  return Ok();
}

Result<void> ConnectStdio(const StdioFds& stdio) {
  int wanted[3] = {stdio.in, stdio.out, stdio.err};
  int moved[3];
  // First lift every fd above 2 so dup2 onto 0..2 cannot clobber one still needed.
  for (int i = 0; i < 3; ++i) {
    moved[i] = wanted[i] >= 0 ? ::fcntl(wanted[i], F_DUPFD_CLOEXEC, 3)
                              : ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (moved[i] < 0) return Error::FromErrno(errno, "stdio");
  }
  for (int i = 0; i < 3; ++i) {
    if (::dup2(moved[i], i) < 0) return Error::FromErrno(errno, "stdio");
    ::close(moved[i]);
  }
  return Ok();
}

// Signal mask and ignored signals survive execve: the container must start with neither,
// whatever the caller (the monitor blocks SIGCHLD for its signalfd) had set.
Result<void> ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0)
    return Error::FromErrno(errno, "sigprocmask");
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  return Ok();
}

Result<void> JoinNamespaces(const InitPlan& plan) {
  for (const auto& join : plan.joins)
    if (::setns(join.fd, join.nstype) != 0) return Error::FromErrno(errno, "setns");
  return Ok();
}

Result<void> UnshareCgroupNamespace(const InitPlan& plan) {
  // After the parent moved us into the container's cgroup, so that it becomes the ns root.
  if (plan.new_cgroup_namespace && ::unshare(CLONE_NEWCGROUP) != 0)
    return Error::FromErrno(errno, "unshare cgroup namespace");
  return Ok();
}

Result<void> SetHostname(const oci::Spec& spec) {
  if (spec.hostname.empty()) return Ok();
  if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
    return Error::FromErrno(errno, "sethostname");
  return Ok();
}

Result<void> WriteSysctls(const oci::Spec& spec) {
  for (const auto& sysctl : spec.sysctls) BERTH_TRY(WriteSysctl(sysctl.key, sysctl.value));
  return Ok();
}

// Raising a hard limit needs CAP_SYS_RESOURCE, which root lacks on some hosts: clamp to the
// current hard limit instead of failing the container (see DESIGN.md).
Result<void> SetRlimits(const oci::Spec& spec) {
  for (const auto& limit : spec.process.rlimits) {
    rlimit wanted{limit.soft, limit.hard};
    if (::setrlimit(limit.resource, &wanted) == 0) continue;
    rlimit current{};
    if (errno != EPERM || ::getrlimit(limit.resource, &current) != 0)
      return Error::FromErrno(errno, "setrlimit " + limit.name);
    rlimit clamped{std::min<rlim_t>(limit.soft, current.rlim_max),
                   std::min<rlim_t>(limit.hard, current.rlim_max)};
    if (::setrlimit(limit.resource, &clamped) != 0)
      return Error::FromErrno(errno, "setrlimit " + limit.name);
  }
  return Ok();
}

// Lowering oom_score_adj also needs CAP_SYS_RESOURCE: keep the current value when refused, as
// containerd's restrict_oom_score_adj does.
Result<void> SetOomScoreAdj(const oci::Spec& spec) {
  if (!spec.process.oom_score_adj) return Ok();
  auto written =
      WriteKernelFile("/proc/self/oom_score_adj", std::to_string(*spec.process.oom_score_adj));
  if (written.ok() ||
      (written.error().sys_errno() != EACCES && written.error().sys_errno() != EPERM))
    return written;
  return Ok();
}

// process.terminal: a pty from the container's own devpts (so ttyname works inside), whose
// master goes to the monitor and whose slave becomes the controlling terminal and stdio.
Result<void> SetupConsole(const InitPlan& plan) {
  const oci::Spec& spec = *plan.spec;
  if (!spec.process.terminal) return Ok();
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return Error::FromErrno(errno, "open /dev/ptmx");
  UniqueFd master_owner(master);
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) return Error::FromErrno(errno, "unlock pty");
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return Error::FromErrno(errno, "open pty slave");
  UniqueFd slave_owner(slave);
  if (::fchown(slave, spec.process.uid, static_cast<gid_t>(-1)) != 0)
    return Error::FromErrno(errno, "chown pty");
  BERTH_TRY(SendWithFds(plan.stdio.console, "T", &master, 1));
  if (::setsid() < 0) return Error::FromErrno(errno, "setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) return Error::FromErrno(errno, "set controlling terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave, fd) < 0) return Error::FromErrno(errno, "pty stdio");
  return Ok();
}

// AppArmor profile and SELinux label, both taking effect at execve.
Result<void> SetLsmLabels(const oci::Spec& spec) {
  if (!spec.process.apparmor_profile.empty())
    BERTH_TRY(security::PrepareApplyOnExec(spec.process.apparmor_profile));
  if (!spec.process.selinux_label.empty())
    BERTH_TRY(security::SetExecLabel(spec.process.selinux_label));
  return Ok();
}

Result<void> InstallSeccomp(const InitPlan& plan) {
  int error = security::InstallSeccompRaw(*plan.seccomp);
  if (error != 0) return Error::FromErrno(error, "install seccomp filter");
  return Ok();
}

Result<void> ChangeWorkingDirectory(const oci::Spec& spec) {
  if (::chdir(spec.process.cwd.c_str()) != 0)
    return Error::FromErrno(errno, "chdir " + spec.process.cwd);
  return Ok();
}

Result<void> ReportReady(const InitPlan& plan) {
  return WriteAll(plan.report_fd, "R", 1);
}

Result<void> CloseHostFds(const InitPlan& plan) {
  ::close(plan.start_fd);
  // Close-on-exec rather than close, so the report pipe still carries an execve failure.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    return Error::FromErrno(errno, "close_range");
  return Ok();
}

Result<void> Setup(const InitPlan& plan) {
  const oci::Spec& spec = *plan.spec;
  for (int fd : plan.parent_fds) ::close(fd);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (plan.parent_death_signal) ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::umask(0);
  BERTH_TRY(ResetSignals());
  BERTH_TRY(ConnectStdio(plan.stdio));
  BERTH_TRY(WaitForParent(plan.start_fd, "the cgroup"));
  BERTH_TRY(JoinNamespaces(plan));
  BERTH_TRY(UnshareCgroupNamespace(plan));
  BERTH_TRY(MakeRootPropagationPrivate(spec));
  BERTH_TRY(BindRootfs(spec));
  BERTH_TRY(MountAll(spec));
  BERTH_TRY(CreateDevices(spec));
  BERTH_TRY(PivotRoot(spec));
  BERTH_TRY(SetupConsole(plan));
  BERTH_TRY(SetHostname(spec));
  BERTH_TRY(WriteSysctls(spec));
  BERTH_TRY(ApplyReadonlyPaths(spec));
  BERTH_TRY(ApplyMaskedPaths(spec));
  BERTH_TRY(RemountRootReadonly(spec));
  BERTH_TRY(SetRlimits(spec));
  BERTH_TRY(SetOomScoreAdj(spec));
  BERTH_TRY(ChangeWorkingDirectory(spec));
  BERTH_ASSIGN_OR_RETURN(std::string executable,
                         FindExecutable(spec.process.args, spec.process.env));
  BERTH_TRY(ReportReady(plan));
  BERTH_TRY(WaitForParent(plan.start_fd, "start"));
  // The container outlives its creator from here on (the caller may exit after starting it).
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  BERTH_TRY(SetLsmLabels(spec));
  // seccomp(2) needs no_new_privs or CAP_SYS_ADMIN: without no_new_privs the filter goes on while
  // the init still holds every capability, so the profile must allow the few calls that follow
  // (as with runc); with it, the filter goes on last, right before execve.
  bool seccomp_first = plan.seccomp != nullptr && !spec.process.no_new_privileges;
  if (seccomp_first) BERTH_TRY(InstallSeccomp(plan));
  BERTH_TRY(SetUserAndCapabilities(spec.process, plan.last_capability));
  BERTH_TRY(SetNoNewPrivileges(spec.process));
  BERTH_TRY(CloseHostFds(plan));
  if (plan.seccomp != nullptr && !seccomp_first) BERTH_TRY(InstallSeccomp(plan));
  return ExecProcess(spec.process.args, spec.process.env, executable);
}

}  // namespace

void RunContainerInit(const InitPlan& plan) {
  Result<void> result = Setup(plan);
  ReportError(plan.report_fd, result.ok() ? Internal("exec returned") : result.error());
  ::_exit(127);
}

}  // namespace berth::runtime::launcher_internal
