// The per-container monitor, seen from berthd. berth-monitor is one small process per container:
// started through a double fork and setsid (so it is nobody's child and survives berthd being
// killed), a child subreaper, the parent of the container. It holds the container's stdout and
// stderr and writes the CRI log, reopens the log on SIGUSR1 or a "reopen" request, and when the
// container exits records the status atomically in <state_dir>/exit, removes the cgroup and ends.
//
// <state_dir> holds: monitor.sock (requests: "start", "reopen"), monitor.pid, container.pid,
// started (when the start succeeded), exit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

struct MonitorRequest {
  std::string monitor_binary;  // berth-monitor (next to berthd)
  std::string bundle_dir;      // config.json + rootfs
  std::string state_dir;       // created if missing
  std::string log_path;        // the CRI log file (kubelet's LogDirectory/LogPath)
  bool stdin = false;          // the container gets a stdin that attach clients write to
  bool stdin_once = false;     // ... closed when the first attach client closes its input
  // Starts the systemd scope of a container whose cgroupsPath is in the systemd form, with the
  // init (waiting for it) inside; the monitor asks for it during the create.
  std::function<Result<void>(pid_t)> place_init = nullptr;
};

struct MonitoredContainer {
  pid_t monitor_pid = -1;
  pid_t container_pid = -1;  // in the host's pid namespace
};

// Starts a monitor, which creates the container (OCI "create"); returns once the container's
// init waits to exec, or with the create error ("mount /data: host path ... does not exist").
Result<MonitoredContainer> SpawnMonitor(const MonitorRequest& request);

// OCI "start" through the monitor: returns once the process exec'd, or the exec error.
Result<void> StartMonitoredContainer(const std::string& state_dir);

// Attach: the monitor copies the container's stdout into `out` and its stderr into `err` (with a
// TTY, everything comes on `out`), and what arrives on `in` into the container's stdin; any may
// be -1. All three are pipe ends the caller keeps its other ends of. Returns the control
// connection: write "resize <width> <height>\n" lines to it; it yields "exit <code>\n" and EOF
// when the container ended; closing it detaches.
Result<UniqueFd> AttachToMonitor(const std::string& state_dir, int in, int out, int err);

// On an attach's control connection (borrowed): the client's terminal size, applied to the
// container's pty by the monitor.
Result<void> SendAttachResize(int control, uint16_t width, uint16_t height);

// Reads the control connection until the monitor closes it: the container's exit code when the
// monitor said "exit <code>", nullopt when it closed without (a detach, or the monitor is gone).
std::optional<int> WaitForAttachEnd(int control);

// Wakes a WaitForAttachEnd blocked on `control` (the client went away): shuts the connection
// down, which detaches from the monitor.
void InterruptAttach(int control);

// ReopenContainerLog: the monitor closes and reopens the log path (after kubelet rotated it).
Result<void> ReopenMonitoredLog(const std::string& state_dir);

struct ExitStatus {
  int exit_code = 0;  // the exit code, or 128 + signal
  int signal = 0;     // the killing signal, 0 when the process exited
  bool oom_killed = false;
  int64_t finished_at_unix_nano = 0;
};

// The recorded exit, or nullopt while the container has not exited.
Result<std::optional<ExitStatus>> ReadExitStatus(const std::string& state_dir);

// When the container's process was started (exec'd), as the monitor recorded it; nullopt when it
// was not (yet) started.
std::optional<int64_t> ReadStartTime(const std::string& state_dir);

// Paths inside a state dir, shared by both sides.
std::string MonitorSocketPath(const std::string& state_dir);
std::string ExitFilePath(const std::string& state_dir);
std::string StartFilePath(const std::string& state_dir);

}  // namespace berth::runtime
