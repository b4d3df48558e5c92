// The last steps of starting a process inside a container, shared by the container's init and
// by berth-exec (ExecSync): find the executable in the container's PATH, take on the user and
// capabilities, no_new_privs, exec. Meant for a single-threaded child process.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/launcher/oci_spec.h"

namespace berth::runtime::launcher_internal {

// args[0] as given when it has a '/', else looked up in PATH from `env`.
Result<std::string> FindExecutable(const std::vector<std::string>& args,
                                   const std::vector<std::string>& env);

// Bounding set, then uid/gid/groups (keeping the permitted capabilities across setuid), then the
// capability sets; without capabilities in the spec, only the ids.
Result<void> SetUserAndCapabilities(const oci::Process& process, int last_capability);

Result<void> SetNoNewPrivileges(const oci::Process& process);

// execve; returns only the error.
Result<void> ExecProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
                         const std::string& executable);

// /proc/sys/kernel/cap_last_cap.
int LastCapability();

}  // namespace berth::runtime::launcher_internal
