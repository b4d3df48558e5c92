// The PID namespace init of a pod whose containers share a PID namespace
// (NamespaceOption.pid = POD): berth-pod-init, started detached from berthd so it outlives a
// daemon restart.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/result.h"

namespace berth::pod {

struct InitProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat field 22: tells the same process from a reused PID
};

// Starts berth-pod-init (found next to the running berthd) in a new PID namespace, inside the
// pod's user, network, IPC and UTS namespaces where given (empty path: the host's); with a user
// namespace, the new PID namespace belongs to it.
Result<InitProcess> StartPodInit(const std::string& userns, const std::string& netns, const std::string& ipcns,
                                 const std::string& utsns);

// Whether `init` is still that same process.
bool PodInitAlive(const InitProcess& init);

// Kills it (and so every process of its PID namespace). Gone already is fine.
void StopPodInit(const InitProcess& init);

uint64_t ProcessStartTime(pid_t pid);

}  // namespace berth::pod
