// The checks every RunPodSandbox and CreateContainer request passes before anything is made.
// Names, namespaces, uids and hostnames end up in /etc/hosts, paths and the log: they must be
// printable UTF-8. What reaches execve (command, args, env) may hold any text but NUL.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "pod/container.h"
#include "pod/sandbox.h"

namespace berth::pod {

// `handlers`: the runtime handler names accepted ("" is the default).
Result<void> ValidateSandboxConfig(const SandboxConfig& config,
                                   const std::vector<std::string>& handlers);

Result<void> ValidateContainerConfig(const ContainerConfig& config);

}  // namespace berth::pod
