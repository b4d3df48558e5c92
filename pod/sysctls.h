// Namespaced sysctls for a pod: which ones are allowed, and applying them inside the pod's
// namespaces.
#pragma once

#include <map>
#include <string>

#include "base/result.h"

namespace berth::pod {

enum class SysctlNamespace { kNet, kIpc, kUts };

// Which namespace `name` (dotted or slashed) belongs to; a sysctl that is not namespaced, or that
// this kernel does not have, is InvalidArgument naming it.
Result<SysctlNamespace> ClassifySysctl(const std::string& name);

// Checks every sysctl against the pod's namespaces (net.* needs the pod's own network, kernel.shm*
// etc. its own IPC namespace) without applying anything.
Result<void> ValidateSysctls(const std::map<std::string, std::string>& sysctls, bool own_network,
                             bool own_ipc);

// Writes each sysctl from a thread inside the namespace it belongs to.
Result<void> ApplySysctls(const std::map<std::string, std::string>& sysctls,
                          const std::string& netns_path, const std::string& ipcns_path,
                          const std::string& utsns_path);

}  // namespace berth::pod
