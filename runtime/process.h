// Processes berth watches but is not the parent of (monitors, pod inits, containers): told apart
// from a later process that reuses the PID by their start time, and waited for through pidfds.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat field 22 (clock ticks after boot)
};

// The start time of `pid`; 0 when there is no such process or it is a zombie (a zombie is gone
// for berth's purposes: the host's init may reap it late).
uint64_t ProcessStartTime(pid_t pid);

// The identity of a running `pid` (start time 0 when it is gone).
ProcessIdentity IdentifyProcess(pid_t pid);

// Whether `process` is still that same process.
bool ProcessAlive(const ProcessIdentity& process);

// A pidfd for `process`, checked to be that same process (a reused PID is refused): NotFound
// when it is gone.
Result<UniqueFd> OpenProcess(const ProcessIdentity& process);

// Waits until the process behind `pidfd` has exited (true) or `limit` passed (false).
bool WaitProcessExit(const UniqueFd& pidfd, std::chrono::milliseconds limit);

// SIGKILL to `process` if it is still that process, then waits (up to `limit`) until it is gone.
// True when it is gone.
bool KillProcess(const ProcessIdentity& process, std::chrono::milliseconds limit);

// The processes whose command line starts with a program named `program` (its last path
// component), with their arguments: how berthd finds the monitors and pod inits of objects a
// crash kept it from recording.
struct ProcessCommandLine {
  ProcessIdentity process;
  std::vector<std::string> argv;
};
std::vector<ProcessCommandLine> FindProcesses(const std::string& program);

}  // namespace berth::runtime
