// Turns an OCI-form seccomp profile into the classic-BPF program the kernel runs, with
// libseccomp, ahead of time in the parent; the forked child only installs the finished program
// (no parsing, no allocation: crun's and bubblewrap's order).
#pragma once

#include <linux/filter.h>

#include <vector>

#include "base/result.h"
#include "security/seccomp_profile.h"

namespace berth::security {

struct SeccompProgram {
  std::vector<struct sock_filter> instructions;
  unsigned int flags = 0;  // SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER, flags, ...)
};

// Builds the filter as runc does:
//   - the native architecture plus every one in `architectures`; a name this libseccomp (2.5.4)
//     cannot build for is FailedPrecondition, an unknown one InvalidArgument;
//   - syscall names unknown to libseccomp are skipped (a profile may name syscalls of newer
//     kernels); a rule whose action equals the default action is skipped too;
//   - conditions on distinct argument indexes are ANDed in one rule; several on the same index
//     each become a rule of their own (ORed), since libseccomp cannot AND them;
//   - ERRNO/TRACE without errnoRet return EPERM;
//   - SCMP_ACT_NOTIFY and SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (meaningful only with a notify
//     listener) are refused: berth runs no seccomp agent;
//   - a program longer than the kernel's 4096 instructions is refused.
// Errors say which syscall or field failed.
Result<SeccompProgram> CompileSeccomp(const SeccompProfile& profile);

// Installs `program` on the calling thread with seccomp(2) (falling back to
// prctl(PR_SET_SECCOMP) on kernels without it, when no flags are asked). Meant for the forked,
// single-threaded child right before execve: it allocates nothing and takes no locks. The kernel
// requires either no_new_privs (prctl(PR_SET_NO_NEW_PRIVS, 1)) or CAP_SYS_ADMIN in the caller's
// user namespace, so the launcher sets no_new_privs first or installs before dropping
// capabilities. The filter also applies to everything after it, including the execve itself, so
// the profile must allow execve (every sane one does).
// Returns 0 or an errno value (ESRCH when SECCOMP_FILTER_FLAG_TSYNC could not sync a thread).
int InstallSeccompRaw(const SeccompProgram& program) noexcept;

// The same, as a Result, for callers that may allocate.
Result<void> InstallSeccomp(const SeccompProgram& program);

}  // namespace berth::security
