// AppArmor: detection, berth's default profile (`berth-default`), loading it, the CRI profile
// choice (containerd's rules), and switching the container's process to a profile at execve.
//
// Loading needs the `apparmor_parser` tool, as containerd does: the kernel only takes compiled
// policy, and libapparmor can load compiled policy but cannot compile profile text, so a
// libapparmor-only path would still need apparmor_parser (or a shipped binary cache). Applying a
// profile needs no library: it is one write to procfs (what runc does too).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::security {

inline constexpr std::string_view kAppArmorDefaultProfileName = "berth-default";

// /sys/module/apparmor/parameters/enabled says "Y" and /sys/kernel/security/apparmor exists.
bool AppArmorEnabled();

// Which optional pieces of /etc/apparmor.d the profile text may use (as containerd checks).
struct AppArmorHostMacros {
  bool abi_3_0 = true;            // abi/3.0
  bool tunables_global = true;    // tunables/global (else @{PROC} is defined inline)
  bool abstractions_base = true;  // abstractions/base
};
AppArmorHostMacros HostAppArmorMacros();

// The text of `berth-default`, in the spirit of Docker's and containerd's default: everything
// but mount, writes to /proc outside /proc/<pid> and /proc/sys/kernel/shm*, sysrq-trigger and
// kcore, writes under /sys outside the cgroup fs, /sys/firmware, powercap and securityfs; signals
// and ptrace only with peers in the same profile or unconfined host processes. The shipped
// security/profiles/apparmor/berth-default is DefaultAppArmorProfileText({}) (all macros).
std::string DefaultAppArmorProfileText(const AppArmorHostMacros& macros);

// True when /sys/kernel/security/apparmor/profiles lists `name`.
Result<bool> AppArmorProfileLoaded(std::string_view name);

// Loads berth-default unless it is already loaded; once per process (later calls return the
// first success at once). Runs `apparmor_parser -Kr` (from /sbin, /usr/sbin or PATH) with the
// text on stdin. FailedPrecondition when AppArmor is not enabled or apparmor_parser is missing.
Result<void> EnsureDefaultProfileLoaded();

// What the CRI asked for (LinuxContainerSecurityContext.apparmor; the deprecated
// apparmor_profile string maps to the same: "runtime/default", "unconfined", "localhost/<name>").
enum class AppArmorProfileType { kUnset, kRuntimeDefault, kUnconfined, kLocalhost };
struct AppArmorRequest {
  AppArmorProfileType type = AppArmorProfileType::kUnset;
  std::string localhost_ref;  // kLocalhost: the name of a loaded profile ("localhost/" trimmed)
};

// containerd's GenerateApparmorSpecOpts, returning the profile name to apply ("" = none):
//   - AppArmor not enabled: unset or Unconfined -> ""; RuntimeDefault or Localhost ->
//     FailedPrecondition "apparmor is not supported" (containerd's words: a requested profile
//     never silently runs unconfined);
//   - enabled: unset or RuntimeDefault -> "berth-default" ("" when privileged); Unconfined -> "";
//     Localhost -> its name, NotFound when that profile is not loaded; localhost_ref given with
//     another type -> InvalidArgument.
// Does not load berth-default: call EnsureDefaultProfileLoaded when the answer is that name.
Result<std::string> ResolveAppArmorProfile(const AppArmorRequest& request, bool privileged,
                                           bool apparmor_enabled);

// For the container's child, right before execve: asks the kernel to switch to `profile` at the
// next execve (writes "exec <profile>" to /proc/thread-self/attr/apparmor/exec, or attr/exec on
// kernels without the per-LSM directory). "" and "unconfined" do nothing; any other profile when
// AppArmor is not enabled is FailedPrecondition. It works after the switch to the container's root
// (whose /sys need not show securityfs): the kernel's answer to the write decides, the host's
// securityfs only names the error.
Result<void> PrepareApplyOnExec(std::string_view profile);

// On the host side, before a container (or an exec in one) leaves the host's mounts: whether
// `profile` can be applied at all. "" and "unconfined" always can; any other profile needs
// AppArmor enabled (FailedPrecondition "apparmor is not supported" otherwise). The check reads the
// host's securityfs, which the container's own /sys does not show.
Result<void> CheckApplyOnExecSupported(std::string_view profile);

// The same without allocating, for a forked child: 0 or an errno value (EOPNOTSUPP when AppArmor
// is not enabled, ENAMETOOLONG for a name over 4000 bytes).
int PrepareApplyOnExecRaw(const char* profile) noexcept;

}  // namespace berth::security
