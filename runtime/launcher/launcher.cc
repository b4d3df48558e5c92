#include "runtime/launcher/launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "base/rollback.h"
#include "runtime/cgroups.h"
#include "runtime/launcher/container_init.h"
#include "runtime/launcher/process_setup.h"
#include "security/apparmor.h"

namespace berth::runtime {
namespace {

using launcher_internal::InitPlan;
using oci::NamespaceType;

int CloneFlag(NamespaceType type) {
  switch (type) {
    case NamespaceType::kPid: return CLONE_NEWPID;
    case NamespaceType::kNetwork: return CLONE_NEWNET;
    case NamespaceType::kMount: return CLONE_NEWNS;
    case NamespaceType::kIpc: return CLONE_NEWIPC;
    case NamespaceType::kUts: return CLONE_NEWUTS;
    case NamespaceType::kUser: return CLONE_NEWUSER;
    case NamespaceType::kCgroup: return CLONE_NEWCGROUP;
    case NamespaceType::kTime: return CLONE_NEWTIME;
  }
  return 0;
}

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Namespaces to join are opened here, before clone, so a bad path is a plain error to the caller.
struct NamespaceFds {
  std::vector<UniqueFd> owners;
  std::vector<launcher_internal::NamespaceToJoin>
      joins;  // for the child (not pid, user: see below)
  UniqueFd pid;
  UniqueFd user;
};

Result<NamespaceFds> OpenNamespaces(const oci::Spec& spec) {
  NamespaceFds fds;
  for (const auto& ns : spec.namespaces) {
    if (ns.path.empty()) continue;
    int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return Error::FromErrno(errno,
                              "open " + oci::NamespaceTypeName(ns.type) + " namespace " + ns.path);
    if (ns.type == NamespaceType::kPid) {
      fds.pid.reset(fd);
      continue;
    }
    if (ns.type == NamespaceType::kUser) {
      fds.user.reset(fd);
      continue;
    }
    fds.joins.push_back({CloneFlag(ns.type), fd});
    fds.owners.emplace_back(fd);
  }
  return fds;
}

int NewNamespaceFlags(const oci::Spec& spec) {
  int flags = CLONE_NEWNS;  // always: the container's mounts must never touch the host
  for (const auto& ns : spec.namespaces)
    if (ns.path.empty() && ns.type != NamespaceType::kCgroup && ns.type != NamespaceType::kUser)
      flags |= CloneFlag(ns.type);
  return flags;
}

// clone(2) as fork, or clone3(2) with CLONE_INTO_CGROUP when `cgroup_fd` is a v2 cgroup: the child
// starts its life in that cgroup, so nothing it does is ever accounted elsewhere. *into_cgroup
// says whether it did (a kernel before 5.7 has no clone3; then the caller moves it).
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
struct CloneArgs {  // struct clone_args of <linux/sched.h>, which collides with glibc's <sched.h>
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};

long RawClone(int flags, int cgroup_fd, bool* into_cgroup) {
  *into_cgroup = false;
  if (cgroup_fd >= 0) {
    CloneArgs args{};
    args.flags = static_cast<uint64_t>(flags) | kCloneIntoCgroup;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
      *into_cgroup = true;
      return pid;
    }
    if (errno != ENOSYS && errno != E2BIG && errno != EINVAL) return pid;
  }
  return ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
}

// With a user namespace to join: the namespaces the init makes must belong to it (or the pod's
// root could not mount /proc or sysfs), so they are made by a clone from inside it. setns into a
// user namespace is for good, hence a short-lived intermediate process does it: it joins the user
// (and pid) namespace, clones the init and exits; the init is then reparented to this process,
// which must be a child subreaper (berth-monitor is). The intermediate is the one cloned into the
// cgroup (inside the user namespace the pod's root may not move processes), the init inherits it.
Result<pid_t> CloneInitInUserNamespace(const InitPlan& plan, int flags, const UniqueFd& join_user,
                                       const UniqueFd& join_pid, int cgroup_fd, bool* into_cgroup) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  long intermediate = RawClone(0, cgroup_fd, into_cgroup);
  if (intermediate < 0) return Error::FromErrno(errno, "fork");
  if (intermediate == 0) {
    long pid = -1;
    int error = 0;
    // Root of the user namespace: what it creates (in /dev, /proc...) must belong to a mapped id.
    if (::setns(join_user.get(), CLONE_NEWUSER) != 0 || ::syscall(SYS_setresgid, 0, 0, 0) != 0 ||
        ::syscall(SYS_setresuid, 0, 0, 0) != 0 ||
        (join_pid && ::setns(join_pid.get(), CLONE_NEWPID) != 0)) {
      error = errno;
    } else {
      pid = ::syscall(SYS_clone, (flags & ~CLONE_NEWUSER) | SIGCHLD, nullptr, nullptr, nullptr,
                      nullptr);
      if (pid == 0) launcher_internal::RunContainerInit(plan);
      if (pid < 0) error = errno;
    }
    long message[2] = {pid, error};
    (void)!::write(write_end.get(), message, sizeof message);
    ::_exit(0);
  }
  write_end.reset();
  long message[2] = {-1, EIO};
  ssize_t n = ::read(read_end.get(), message, sizeof message);
  ::waitpid(static_cast<pid_t>(intermediate), nullptr, 0);
  if (n != sizeof message || message[0] <= 0) {
    return Error::FromErrno(static_cast<int>(message[1]),
                            "clone the container's init in the pod's user namespace");
  }
  return static_cast<pid_t>(message[0]);
}

// Clones the init. A pid namespace to join is entered by this process for the clone alone:
// setns(CLONE_NEWPID) only changes where the next children go, and is undone right after.
Result<pid_t> CloneInit(const InitPlan& plan, int flags, const UniqueFd& join_pid, int cgroup_fd,
                        bool* into_cgroup) {
  UniqueFd own_pid;
  if (join_pid) {
    own_pid.reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!own_pid || ::setns(join_pid.get(), CLONE_NEWPID) != 0)
      return Error::FromErrno(errno, "join pid namespace");
  }
  long pid = RawClone(flags, cgroup_fd, into_cgroup);
  if (pid == 0) launcher_internal::RunContainerInit(plan);
  int clone_errno = errno;
  if (own_pid && ::setns(own_pid.get(), CLONE_NEWPID) != 0) {
    // Cannot happen for our own namespace; if it did, later children would land in the pod's.
    ::abort();
  }
  if (pid < 0) return Error::FromErrno(clone_errno, "clone");
  return static_cast<pid_t>(pid);
}

// The container's cgroup, ready before the clone. A cgroupfs path is made if missing (berthd made
// it with its limits already; a bare launcher makes it plain) and opened for CLONE_INTO_CGROUP; a
// systemd scope is started by the caller with the init in it (InitPlacer).
struct InitCgroup {
  SpecCgroup target;
  bool created = false;
  UniqueFd v2_dir;
};

Result<InitCgroup> PrepareInitCgroup(const oci::Spec& spec) {
  InitCgroup out;
  if (spec.cgroups_path.empty()) return out;
  BERTH_ASSIGN_OR_RETURN(out.target, ParseOciCgroupsPath(spec.cgroups_path));
  if (out.target.systemd_managed) return out;
  Cgroups cgroups = Cgroups::Probe();
  BERTH_ASSIGN_OR_RETURN(std::string created_root, cgroups.Create(out.target.path));
  out.created = !created_root.empty();
  if (!cgroups.v2().empty()) {
    out.v2_dir.reset(
        ::open((cgroups.v2() + out.target.path).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  return out;
}

// After the clone, before the init goes on: the cgroups it is not in yet (v1 hierarchies, or all
// of them without clone3), or the caller's placement into a systemd scope.
Result<void> JoinCgroup(const InitCgroup& cgroup, pid_t pid, bool into_v2,
                        const InitPlacer& place) {
  if (cgroup.target.path.empty()) return Ok();
  if (cgroup.target.systemd_managed) {
    if (!place)
      return FailedPrecondition("cgroupsPath " + cgroup.target.path +
                                " is a systemd scope: the caller must place the init");
    return place(pid);
  }
  Cgroups cgroups = Cgroups::Probe();
  std::vector<std::string> mountpoints;
  for (const auto& hierarchy : cgroups.v1()) mountpoints.push_back(hierarchy.second);
  if (!cgroups.v2().empty() && !into_v2) mountpoints.push_back(cgroups.v2());
  std::string pid_text = std::to_string(pid);
  for (const auto& mountpoint : mountpoints) {
    std::string procs = mountpoint + cgroup.target.path + "/cgroup.procs";
    UniqueFd fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), pid_text.data(), pid_text.size()) < 0)
      return Error::FromErrno(errno, "join cgroup " + procs);
  }
  return Ok();
}

// Reads what the init reports: 'R' (ready), or 'E' and a message; EOF with nothing means the init
// died (or, after start, that execve succeeded — the pipe is close-on-exec).
Result<char> ReadReport(int fd, std::string& message) {
  char buffer[4096];
  std::string all;
  for (;;) {
    ssize_t n = ::read(fd, buffer, all.empty() ? 1 : sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "read the container's report");
    if (n == 0) break;
    all.append(buffer, static_cast<size_t>(n));
    if (all == "R") return 'R';
  }
  if (all.empty()) return '\0';
  message = all.substr(1);
  return all[0];
}

// The init reports its error with its code (Error::ToWire), never guessed from the text.
Error ReportedError(const std::string& message) {
  return Error::FromWire(message);
}

}  // namespace

Result<CreatedContainer> CreateContainer(const oci::Spec& spec, const StdioFds& stdio,
                                         const InitPlacer& place) {
  BERTH_ASSIGN_OR_RETURN(NamespaceFds namespaces, OpenNamespaces(spec));
  BERTH_ASSIGN_OR_RETURN(Pipe start, MakePipe());
  BERTH_ASSIGN_OR_RETURN(Pipe report, MakePipe());
  InitPlan plan;
  plan.spec = &spec;
  plan.stdio = stdio;
  plan.start_fd = start.read.get();
  plan.report_fd = report.write.get();
  plan.parent_fds[0] = start.write.get();
  plan.parent_fds[1] = report.read.get();
  plan.joins = namespaces.joins;
  const oci::Namespace* cgroup_ns = spec.FindNamespace(NamespaceType::kCgroup);
  plan.new_cgroup_namespace = cgroup_ns != nullptr && cgroup_ns->path.empty();
  plan.last_capability = launcher_internal::LastCapability();
  // Compiled here, so that the child only installs a finished program.
  std::optional<security::SeccompProgram> seccomp;
  if (spec.seccomp) {
    auto compiled = security::CompileSeccomp(*spec.seccomp);
    if (!compiled.ok()) return std::move(compiled).error().Wrap("seccomp");
    seccomp = std::move(*compiled);
    plan.seccomp = &*seccomp;
  }
  if (spec.process.terminal && stdio.console < 0)
    return InvalidArgument("process.terminal: no console socket given");
  // Here, on the host: after the root switch the container's /sys need not show securityfs.
  BERTH_TRY(security::CheckApplyOnExecSupported(spec.process.apparmor_profile));

  BERTH_ASSIGN_OR_RETURN(InitCgroup cgroup, PrepareInitCgroup(spec));
  Rollback rollback("CreateContainer", "the init of " + spec.cgroups_path);
  if (cgroup.created) {
    BERTH_TRY(rollback.Done("cgroup", [&spec] { return RemoveContainerCgroup(spec); }));
  }
  // Its parent (the intermediate) exits at once: no parent-death signal then; the start pipe's EOF
  // still ends an init whose caller went away.
  plan.parent_death_signal = !namespaces.user;
  bool into_cgroup = false;
  int cgroup_fd = cgroup.v2_dir ? cgroup.v2_dir.get() : -1;
  BERTH_ASSIGN_OR_RETURN(
      pid_t pid,
      namespaces.user
          ? CloneInitInUserNamespace(plan, NewNamespaceFlags(spec), namespaces.user, namespaces.pid,
                                     cgroup_fd, &into_cgroup)
          : CloneInit(plan, NewNamespaceFlags(spec), namespaces.pid, cgroup_fd, &into_cgroup));
  start.read.reset();
  report.write.reset();
  // The cgroup cannot go while the init is still in it: this undo runs before the cgroup's.
  BERTH_TRY(rollback.Done("init", [pid]() -> Result<void> {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Ok();
  }));
  BERTH_TRY(JoinCgroup(cgroup, pid, into_cgroup, place));
  if (::write(start.write.get(), "C", 1) != 1)
    return Error::FromErrno(errno, "let the container's init go on");

  std::string message;
  BERTH_ASSIGN_OR_RETURN(char report_kind, ReadReport(report.read.get(), message));
  if (report_kind == '\0') return Internal("the container's init died during setup");
  if (report_kind != 'R') return ReportedError(message);
  rollback.Commit();
  CreatedContainer container;
  container.pid_ = pid;
  container.start_ = std::move(start.write);
  container.report_ = std::move(report.read);
  container.cgroup_path_ = spec.cgroups_path;
  return container;
}

Result<void> StartContainer(CreatedContainer& container) {
  if (!container.start_) return FailedPrecondition("container was already started");
  if (::write(container.start_.get(), "S", 1) != 1)
    return Error::FromErrno(errno, "start the container");
  container.start_.reset();
  std::string message;
  BERTH_ASSIGN_OR_RETURN(char report_kind, ReadReport(container.report_.get(), message));
  container.report_.reset();
  if (report_kind == 'E') return ReportedError(message);
  return Ok();
}

Result<void> RemoveContainerCgroup(const oci::Spec& spec) {
  if (spec.cgroups_path.empty()) return Ok();
  BERTH_ASSIGN_OR_RETURN(SpecCgroup cgroup, ParseOciCgroupsPath(spec.cgroups_path));
  // A systemd scope ends with its last process; its unit is systemd's to remove.
  if (cgroup.systemd_managed) return Ok();
  return Cgroups::Probe().Remove(cgroup.path);
}

}  // namespace berth::runtime
