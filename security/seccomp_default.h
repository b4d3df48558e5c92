// berth's RuntimeDefault seccomp profile: the same policy as containerd's and Docker's default
// (an allow-list by syscall name, EPERM for everything else), with the rules that depend on the
// container's capabilities resolved for it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "security/seccomp_profile.h"

namespace berth::security {

// The profile for a container whose bounding set is `granted_capabilities` (OCI names,
// "CAP_SYS_ADMIN"), on this machine's architecture. In short:
//   - default action SCMP_ACT_ERRNO with errnoRet 1 (EPERM);
//   - ~350 everyday syscalls allowed by name; keyring (add_key, keyctl, request_key), io_uring_*,
//     userfaultfd, kexec, swapon/off, the new mount API, unshare/setns/mount/umount, bpf,
//     perf_event_open, ... are not, unless a capability below grants them;
//   - socket(): any family but AF_VSOCK (40); personality(): only 0, 0x8, 0x20000, 0x20008 and
//     0xffffffff (query);
//   - without CAP_SYS_ADMIN: clone() only without namespace flags (CLONE_NEWNS|NEWUTS|NEWIPC|
//     NEWUSER|NEWPID|NEWNET|NEWCGROUP), clone3() fails with ENOSYS so libc falls back to clone();
//   - CAP_SYS_ADMIN, SYS_BOOT, SYS_CHROOT, SYS_MODULE, SYS_PACCT, SYS_PTRACE, SYS_RAWIO, SYS_TIME,
//     SYS_TTY_CONFIG, SYS_NICE, SYSLOG, BPF, PERFMON and DAC_READ_SEARCH each open their syscalls.
// Unlike Docker we allow ptrace without a kernel-version check (berth needs a kernel well past 4.8)
// and, like containerd 2.0 and Docker 25, no longer allow io_uring.
SeccompProfile RuntimeDefaultProfile(const std::vector<std::string>& granted_capabilities);

// The same for an explicit architecture in Go spelling ("amd64", "arm64"; others get no
// arch-specific syscalls and no architecture list). The shipped berth-default.json is
// RuntimeDefaultProfileFor(DefaultCapabilities(), "amd64").
SeccompProfile RuntimeDefaultProfileFor(const std::vector<std::string>& granted_capabilities,
                                        std::string_view native_arch);

}  // namespace berth::security
