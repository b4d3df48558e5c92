#include "security/seccomp_default.h"

#include <errno.h>
#include <sched.h>

#include <algorithm>
#include <initializer_list>

namespace berth::security {
namespace {

// Syscalls every container may make. Facts from moby's profiles/seccomp/default.json and
// containerd's contrib/seccomp; the list is ours, sorted, one line per family.
// clang-format off
constexpr std::string_view kAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
    "capget", "capset", "chdir", "chmod", "chown", "chown32",
    "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
    "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
    "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
    "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group",
    "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
    "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
    "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat",
    "getcpu", "getcwd", "getdents", "getdents64",
    "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
    "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
    "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
    "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
    "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
    "getuid", "getuid32", "getxattr",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
    "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
    "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
    "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
    "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
    "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal",
    "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "process_vm_readv", "process_vm_writev", "pselect6", "pselect6_time64",
    "ptrace", "pwrite64", "pwritev", "pwritev2",
    "read", "readahead", "readlink", "readlinkat", "readv",
    "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
    "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
    "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
    "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64",
    "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority",
    "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
    "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
    "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
    "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat",
    "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill",
    "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
    "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
    "wait4", "waitid", "waitpid", "write", "writev",
};
// clang-format on

// Syscalls a capability opens (the kernel checks the capability again; the filter only stops
// containers without it from reaching code that has had bugs).
struct CapabilityRule {
  std::string_view capability;
  std::initializer_list<std::string_view> syscalls;
};

const CapabilityRule kCapabilityRules[] = {
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
    {"CAP_SYS_ADMIN",
     {"bpf",           "clone",         "clone3",      "fanotify_init",   "fsconfig",
      "fsmount",       "fsopen",        "fspick",      "lookup_dcookie",  "mount",
      "mount_setattr", "move_mount",    "open_tree",   "perf_event_open", "quotactl",
      "quotactl_fd",   "setdomainname", "sethostname", "setns",           "syslog",
      "umount",        "umount2",       "unshare"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_CHROOT", {"chroot"}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE",
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {"CAP_SYSLOG", {"syslog"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_PERFMON", {"perf_event_open"}},
};

// The personality(2) values programs use: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE (alone and with
// UNAME26), and 0xffffffff, which only queries.
constexpr uint64_t kPersonalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

constexpr uint64_t kAfVsock = 40;  // vsock reaches the host's hypervisor services

constexpr uint64_t kCloneNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                          CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                                          CLONE_NEWCGROUP;

SeccompSyscall Allow(std::initializer_list<std::string_view> names) {
  SeccompSyscall call;
  for (auto name : names) call.names.emplace_back(name);
  call.action = SeccompAction::kAllow;
  return call;
}

SeccompSyscall AllowIf(std::string_view name, SeccompOperator op, uint32_t index, uint64_t value,
                       uint64_t value_two = 0) {
  SeccompSyscall call = Allow({name});
  call.args.push_back({index, value, value_two, op});
  return call;
}

}  // namespace

SeccompProfile RuntimeDefaultProfileFor(const std::vector<std::string>& granted_capabilities,
                                        std::string_view native_arch) {
  auto granted = [&](std::string_view cap) {
    return std::find(granted_capabilities.begin(), granted_capabilities.end(), cap) !=
           granted_capabilities.end();
  };
  SeccompProfile profile;
  profile.default_action = SeccompAction::kErrno;
  profile.default_errno_ret = EPERM;
  if (native_arch == "amd64") {
    profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  } else if (native_arch == "arm64") {
    profile.architectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
  }

  SeccompSyscall allowed;
  allowed.action = SeccompAction::kAllow;
  for (auto name : kAllowed) allowed.names.emplace_back(name);
  profile.syscalls.push_back(std::move(allowed));

  profile.syscalls.push_back(AllowIf("socket", SeccompOperator::kNotEqual, 0, kAfVsock));
  for (uint64_t persona : kPersonalities)
    profile.syscalls.push_back(AllowIf("personality", SeccompOperator::kEqual, 0, persona));

  if (native_arch == "amd64") {
    profile.syscalls.push_back(Allow({"arch_prctl", "modify_ldt"}));
  } else if (native_arch == "arm64") {
    profile.syscalls.push_back(Allow({"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2",
                                      "breakpoint", "cacheflush", "set_tls"}));
  }

  for (const auto& rule : kCapabilityRules) {
    if (!granted(rule.capability)) continue;
    profile.syscalls.push_back(Allow(rule.syscalls));
  }

  if (!granted("CAP_SYS_ADMIN")) {
    // clone's flags are its first argument on every architecture berth builds for (s390x swaps
    // the first two; not supported here).
    profile.syscalls.push_back(
        AllowIf("clone", SeccompOperator::kMaskedEqual, 0, kCloneNamespaceFlags, 0));
    // clone3 passes its flags in memory, which seccomp cannot read: answer ENOSYS so that glibc
    // and others fall back to clone(), which the rule above can check (moby#42681).
    SeccompSyscall clone3;
    clone3.names = {"clone3"};
    clone3.action = SeccompAction::kErrno;
    clone3.errno_ret = ENOSYS;
    profile.syscalls.push_back(std::move(clone3));
  }
  return profile;
}

SeccompProfile RuntimeDefaultProfile(const std::vector<std::string>& granted_capabilities) {
  return RuntimeDefaultProfileFor(granted_capabilities, HostSeccompContext({}).native_arch);
}

}  // namespace berth::security
