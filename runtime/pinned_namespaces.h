// Namespaces that live without a process: created on a short-lived thread and pinned by
// bind-mounting the thread's nsfs file onto a file, as containerd and `ip netns` do.
#pragma once

#include <string>

#include "base/result.h"

namespace berth::runtime {

struct PinnedNamespaceRequest {
  std::string dir;  // created if missing; pins are <dir>/net, <dir>/ipc, <dir>/uts
  bool net = false;
  bool ipc = false;
  bool uts = false;
  std::string hostname;  // set in the new UTS namespace
};

// A user namespace for a pod (Kubernetes hostUsers: false): its /proc/PID/uid_map and gid_map
// contents ("0 100000 65536\n").
struct UserNamespaceMaps {
  std::string uid_map;
  std::string gid_map;
};

// Creates the requested namespaces and pins them. With `userns`, a user namespace is made first
// and pinned at <dir>/user, and the others are made inside it, so that it owns them. On failure
// nothing stays pinned.
Result<void> CreatePinnedNamespaces(const PinnedNamespaceRequest& request,
                                    const UserNamespaceMaps* userns = nullptr);

// Unmounts and removes a pin; an absent pin is fine.
Result<void> UnpinNamespace(const std::string& path);

}  // namespace berth::runtime
