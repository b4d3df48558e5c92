// Mounts berthd makes on the host for a pod (not in a container's mount namespace, which is the
// launcher's): the pod-wide /dev/shm.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace berth::runtime {

// A tmpfs for the pod's /dev/shm at `path` (created), sized as Docker and containerd size it
// (64 MiB), owned by the pod's root (`uid`:`gid` on the host).
Result<void> MountPodShm(const std::string& path, uint32_t uid, uint32_t gid);

// Detaches whatever is mounted at `path`; nothing mounted (or no such path) is fine.
Result<void> UnmountIfMounted(const std::string& path);

}  // namespace berth::runtime
