// Work inside a namespace runs on a fresh thread that enters it and then ends, so that no daemon
// thread is ever left in a pod's namespace (setns and unshare of net, ipc and uts are per-thread).
// Pinning a pod's namespaces is runtime/'s (runtime/pinned_namespaces.h).
#pragma once

#include <functional>
#include <string>

#include "base/result.h"

namespace berth {

// Runs `work` on a new thread and waits for it.
Result<void> RunOnFreshThread(const std::function<Result<void>()>& work);

// Runs `work` on a new thread that has entered the namespace pinned at `path` (`nstype`:
// CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS), and returns its result.
Result<void> RunInNamespace(const std::string& path, int nstype,
                            const std::function<Result<void>()>& work);

}  // namespace berth
