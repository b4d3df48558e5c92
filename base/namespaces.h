// Namespaces that live without a process: created on a short-lived thread (unshare of net, ipc and
// uts is per-thread) and pinned by bind-mounting the thread's nsfs file onto a file, as
// containerd and `ip netns` do. Work inside a namespace runs on a fresh thread that enters it and
// then ends, so no daemon thread is ever left in a pod's namespace.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"

namespace berth {

struct PinnedNamespaceRequest {
  std::string dir;       // created if missing; pins are <dir>/net, <dir>/ipc, <dir>/uts
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

// Runs `work` on a new thread that has entered the namespace pinned at `path` (`nstype`:
// CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS), and returns its result.
Result<void> RunInNamespace(const std::string& path, int nstype,
                            const std::function<Result<void>()>& work);

}  // namespace berth
