// CreateContainer's CRI config + the image config + the sandbox -> an OCI runtime spec
// (config.json) for the launcher. The rootfs must already be mounted at the bundle's rootfs/.
#pragma once

#include <string>

#include "base/result.h"
#include "image/manifest.h"
#include "pod/container.h"
#include "pod/sandbox.h"
#include "runtime/cgroups.h"

namespace berth::pod {

// The process args by the Kubernetes rules: command given -> command + args; otherwise the
// image's Entrypoint + (args if given, else the image's Cmd). Empty is InvalidArgument.
Result<std::vector<std::string>> MergeCommand(const ContainerConfig& config,
                                              const image::ImageConfig& image);

// The image env, overridden per key by the CRI envs.
std::vector<std::string> MergeEnv(const ContainerConfig& config, const image::ImageConfig& image,
                                  const std::string& hostname);

struct OciSpec {
  std::string json;                               // config.json
  ContainerUser user;                             // who the process runs as (ContainerStatus.user)
  std::vector<runtime::DeviceRule> device_rules;  // for the container's devices cgroup
  std::string mount_label;                        // SELinux, when enabled
};

// The whole config.json: process (command, env, user, capabilities, no_new_privs, LSM labels),
// mounts, devices, namespaces, masked/read-only paths, seccomp. The rootfs must be mounted (the
// user is resolved in its /etc/passwd). Bad security settings are InvalidArgument or, for a
// feature this host lacks (AppArmor), FailedPrecondition.
Result<OciSpec> BuildOciSpec(const Container& container, const Sandbox& sandbox,
                             const image::ImageConfig& image);

}  // namespace berth::pod
