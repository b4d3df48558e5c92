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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace berth::launcher_internal {
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

void ReportError(int report_fd, const std::string& message) {
  // One write under PIPE_BUF arrives whole.
  std::string frame = "E" + message.substr(0, 4000);
  (void)WriteAll(report_fd, frame.data(), frame.size());
}

// Reads the parent's next go-ahead byte; EOF means the parent gave up on this container.
Result<void> WaitForParent(int start_fd, const char* what) {
  char byte = 0;
  ssize_t n;
  do n = ::read(start_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) return Error(ErrorCode::kCancelled, std::string("wait for ") + what + ": the caller went away");
  return Ok();
}

Result<void> ConnectStdio(const StdioFds& stdio) {
  int wanted[3] = {stdio.in, stdio.out, stdio.err};
  int moved[3];
  // First lift every fd above 2 so dup2 onto 0..2 cannot clobber one still needed.
  for (int i = 0; i < 3; ++i) {
    moved[i] = wanted[i] >= 0 ? ::fcntl(wanted[i], F_DUPFD_CLOEXEC, 3) : ::open("/dev/null", O_RDWR | O_CLOEXEC);
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
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return Error::FromErrno(errno, "sigprocmask");
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
  if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) return Error::FromErrno(errno, "sethostname");
  return Ok();
}

Result<void> WriteProcFile(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(errno, "open " + path);
  UniqueFd owner(fd);
  return WriteAll(fd, value.data(), value.size());
}

Result<void> WriteSysctls(const oci::Spec& spec) {
  for (const auto& sysctl : spec.sysctls) {
    std::string path = "/proc/sys/" + sysctl.key;
    for (char& c : path)
      if (c == '.') c = '/';
    auto written = WriteProcFile(path, sysctl.value);
    if (!written.ok()) return std::move(written).error().Wrap("sysctl " + sysctl.key);
  }
  return Ok();
}

// Raising a hard limit needs CAP_SYS_RESOURCE, which root lacks on some hosts: clamp to the
// current hard limit instead of failing the container (see DESIGN.md).
Result<void> SetRlimits(const oci::Spec& spec) {
  for (const auto& limit : spec.process.rlimits) {
    rlimit wanted{limit.soft, limit.hard};
    if (::setrlimit(limit.resource, &wanted) == 0) continue;
    rlimit current{};
    if (errno != EPERM || ::getrlimit(limit.resource, &current) != 0) return Error::FromErrno(errno, "setrlimit " + limit.name);
    rlimit clamped{std::min<rlim_t>(limit.soft, current.rlim_max), std::min<rlim_t>(limit.hard, current.rlim_max)};
    if (::setrlimit(limit.resource, &clamped) != 0) return Error::FromErrno(errno, "setrlimit " + limit.name);
  }
  return Ok();
}

// Lowering oom_score_adj also needs CAP_SYS_RESOURCE: keep the current value when refused, as
// containerd's restrict_oom_score_adj does.
Result<void> SetOomScoreAdj(const oci::Spec& spec) {
  if (!spec.process.oom_score_adj) return Ok();
  auto written = WriteProcFile("/proc/self/oom_score_adj", std::to_string(*spec.process.oom_score_adj));
  if (written.ok() || (written.error().sys_errno() != EACCES && written.error().sys_errno() != EPERM)) return written;
  return Ok();
}

Result<void> ChangeWorkingDirectory(const oci::Spec& spec) {
  if (::chdir(spec.process.cwd.c_str()) != 0) return Error::FromErrno(errno, "chdir " + spec.process.cwd);
  return Ok();
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& entry : env)
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

Result<void> CheckExecutable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::FromErrno(errno, "exec " + path);
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) return Error::FromErrno(EACCES, "exec " + path);
  return Ok();
}

// Looked up in the container's own PATH (from process.env) after pivot_root, so a missing binary
// fails CreateContainer rather than the start.
Result<std::string> FindExecutable(const oci::Spec& spec) {
  const std::string& name = spec.process.args[0];
  if (name.find('/') != std::string::npos) {
    BERTH_TRY(CheckExecutable(name));
    return name;
  }
  std::string path = EnvValue(spec.process.env, "PATH");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find(':', start), path.size());
    std::string candidate = (end == start ? std::string(".") : path.substr(start, end - start)) + "/" + name;
    if (CheckExecutable(candidate).ok()) return candidate;
    start = end + 1;
  }
  return NotFound("exec " + name + ": executable file not found in $PATH");
}

Result<void> ReportReady(const InitPlan& plan) { return WriteAll(plan.report_fd, "R", 1); }

Result<void> DropBoundingSet(const InitPlan& plan) {
  const auto& caps = plan.spec->process.capabilities;
  for (int cap = 0; cap <= plan.last_capability; ++cap)
    if (!(caps->bounding & (uint64_t{1} << cap)) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return Error::FromErrno(errno, "drop capability " + std::to_string(cap) + " from the bounding set");
  return Ok();
}

// Raw syscalls: glibc's wrappers would try to change the credentials of every thread the caller
// had, and those threads do not exist in this child.
Result<void> SetIds(const oci::Process& process) {
  const auto& groups = process.additional_gids;
  if (::syscall(SYS_setgroups, groups.size(), groups.data()) != 0) return Error::FromErrno(errno, "setgroups");
  if (::syscall(SYS_setresgid, process.gid, process.gid, process.gid) != 0) return Error::FromErrno(errno, "setgid " + std::to_string(process.gid));
  if (::syscall(SYS_setresuid, process.uid, process.uid, process.uid) != 0) return Error::FromErrno(errno, "setuid " + std::to_string(process.uid));
  return Ok();
}

Result<void> SetCapabilitySets(const oci::Capabilities& caps) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return Error::FromErrno(errno, "capget");
  // Only what this process still holds can be kept (CAP_SYS_RESOURCE may be missing on the host).
  uint64_t held = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  const uint64_t sets[3] = {caps.effective & held, caps.permitted & held, caps.inheritable & held};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(sets[0] >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sets[1] >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sets[2] >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return Error::FromErrno(errno, "capset");
  for (int cap = 0; cap < 64; ++cap)
    if ((caps.ambient & sets[1] & sets[2] & (uint64_t{1} << cap)) &&
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return Error::FromErrno(errno, "raise ambient capability " + std::to_string(cap));
  return Ok();
}

Result<void> SetUserAndCapabilities(const InitPlan& plan) {
  const oci::Process& process = plan.spec->process;
  if (!process.capabilities) return SetIds(process);
  BERTH_TRY(DropBoundingSet(plan));
  // Keep the permitted set across setuid(non-zero); capset then trims it to the spec's sets.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Error::FromErrno(errno, "keep capabilities");
  BERTH_TRY(SetIds(process));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return Error::FromErrno(errno, "keep capabilities");
  return SetCapabilitySets(*process.capabilities);
}

Result<void> SetNoNewPrivileges(const oci::Spec& spec) {
  if (spec.process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Error::FromErrno(errno, "no_new_privs");
  return Ok();
}

Result<void> CloseHostFds(const InitPlan& plan) {
  ::close(plan.start_fd);
  // Close-on-exec rather than close, so the report pipe still carries an execve failure.
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) return Error::FromErrno(errno, "close_range");
  return Ok();
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

Result<void> Exec(const oci::Spec& spec, const std::string& executable) {
  std::vector<char*> argv = CStrings(spec.process.args);
  std::vector<char*> envp = CStrings(spec.process.env);
  ::umask(022);
  ::execve(executable.c_str(), argv.data(), envp.data());
  return Error::FromErrno(errno, "exec " + executable);
}

Result<void> Setup(const InitPlan& plan) {
  const oci::Spec& spec = *plan.spec;
  for (int fd : plan.parent_fds) ::close(fd);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
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
  BERTH_TRY(SetHostname(spec));
  BERTH_TRY(WriteSysctls(spec));
  BERTH_TRY(ApplyReadonlyPaths(spec));
  BERTH_TRY(ApplyMaskedPaths(spec));
  BERTH_TRY(RemountRootReadonly(spec));
  BERTH_TRY(SetRlimits(spec));
  BERTH_TRY(SetOomScoreAdj(spec));
  BERTH_TRY(ChangeWorkingDirectory(spec));
  BERTH_ASSIGN_OR_RETURN(std::string executable, FindExecutable(spec));
  BERTH_TRY(ReportReady(plan));
  BERTH_TRY(WaitForParent(plan.start_fd, "start"));
  // The container outlives its creator from here on (the caller may exit after starting it).
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  BERTH_TRY(SetUserAndCapabilities(plan));
  BERTH_TRY(SetNoNewPrivileges(spec));
  BERTH_TRY(CloseHostFds(plan));
  return Exec(spec, executable);
}

}  // namespace

void RunContainerInit(const InitPlan& plan) {
  Result<void> result = Setup(plan);
  ReportError(plan.report_fd, result.ok() ? "exec returned" : result.error().message());
  ::_exit(127);
}

}  // namespace berth::launcher_internal
