// CreateContainer's CRI config + the image config + the sandbox -> an OCI runtime spec
// (config.json) for the launcher. The rootfs must already be mounted at the bundle's rootfs/.
#pragma once

#include <string>

#include "base/result.h"
#include "image/manifest.h"
#include "pod/container.h"
#include "pod/sandbox.h"

namespace berth::pod {

// The process args by the Kubernetes rules: command given -> command + args; otherwise the
// image's Entrypoint + (args if given, else the image's Cmd). Empty is InvalidArgument.
Result<std::vector<std::string>> MergeCommand(const ContainerConfig& config,
                                              const image::ImageConfig& image);

// The image env, overridden per key by the CRI envs.
std::vector<std::string> MergeEnv(const ContainerConfig& config, const image::ImageConfig& image,
                                  const std::string& hostname);

struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
};

// run_as_user / run_as_group, else the image's USER ("uid[:gid]" or "name[:group]") resolved in
// the container's own /etc/passwd and /etc/group under `rootfs` (never following links out).
Result<ProcessUser> ResolveUser(const ContainerConfig& config, const image::ImageConfig& image,
                               const std::string& rootfs);

// The whole config.json.
Result<std::string> BuildOciSpec(const Container& container, const Sandbox& sandbox,
                                 const image::ImageConfig& image);

}  // namespace berth::pod
