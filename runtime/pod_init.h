// The PID namespace init of a pod whose containers share a PID namespace
// (NamespaceOption.pid = POD): berth-pod-init, started detached from berthd so that it outlives a
// daemon restart, in the pod's namespaces.
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/process.h"

namespace berth::runtime {

// Starts berth-pod-init (found next to the running berthd) for the pod `pod_id` in a new PID
// namespace, inside the pod's user, network, IPC and UTS namespaces where given (empty path: the
// host's); with a user namespace, the new PID namespace belongs to it. Its command line is
// "berth-pod-init <pod_id>".
Result<ProcessIdentity> StartPodInit(const std::string& pod_id, const std::string& userns,
                                     const std::string& netns, const std::string& ipcns,
                                     const std::string& utsns);

// Kills it (and so every process of its PID namespace) and waits until it is gone. Gone already
// is fine; true when it is gone.
bool StopPodInit(const ProcessIdentity& init);

}  // namespace berth::runtime
