// ExecSync: a command run inside a running container, in all of its namespaces and its cgroup,
// with its user, capabilities and no_new_privs (from its config.json). berthd spawns berth-exec,
// a small single-threaded helper that joins the container and execs the command, and collects
// its output, bounded, until it exits or the timeout kills it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime {

// A command to run in a container through berth-exec: for a streaming exec (CRI Exec) with the
// caller's ends of its stdio, optionally on a pty allocated inside the container.
struct ExecStartRequest {
  std::string exec_binary;  // berth-exec (next to berthd)
  std::string bundle_dir;   // the container's config.json
  pid_t container_pid = 0;  // its init, in the host's PID namespace
  std::string cgroup_path;
  std::vector<std::string> args;
  bool tty = false;
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;  // ignored with a tty (all output comes through the pty)
};

// ExecSync: the command with no stdin and both outputs collected.
struct ExecSyncRequest {
  ExecStartRequest command;              // tty, stdin, stdout, stderr are ExecSync's own
  std::chrono::milliseconds timeout{0};  // 0: none
  size_t max_output = 16 << 20;          // per stream; more is cut off
};

struct ExecSyncResult {
  int exit_code = 0;
  std::string stdout_data;
  std::string stderr_data;
};

// Runs the command; a timeout kills it (and everything it started) and is DeadlineExceeded.
Result<ExecSyncResult> ExecSync(const ExecSyncRequest& request);

struct StartedExec {
  pid_t pid = -1;  // berth-exec; its process group holds the command (killed on Cancel)
  UniqueFd stdin_fd, stdout_fd, stderr_fd;  // invalid when not asked for
  UniqueFd pty_master;                      // with a tty: for resizes
};

// Starts the command; returns once it runs (or with berth-exec's error: the container is gone,
// the binary is missing...).
Result<StartedExec> StartExec(const ExecStartRequest& request);

// Asks berth-exec to end the command (SIGTERM: it kills the command's process group and reaps
// it) and returns at once; `pid` must not have been waited for yet (it could be another
// process's by then).
Result<void> RequestExecStop(pid_t pid);

// Ends a running exec: berth-exec kills the command (its process group) and reaps it; SIGKILL to
// berth-exec's own group after 2 s. The caller still waits for `pid`.
void StopExec(pid_t pid);

// Waits for berth-exec to end: the command's exit code (128 + signal when killed).
Result<int> WaitExec(pid_t pid);

// berth-exec's own work: join the container of `container_pid` (cgroup, namespaces), take on
// the process settings of the bundle's config.json for `args`, and exec. Exits with the
// command's status; its own failures are written to stderr with exit code 126 or 127.
// With `tty`, the command gets a pty opened inside the container, whose master is sent over fd 3.
[[noreturn]] void RunExecInContainer(const std::string& bundle_dir, pid_t container_pid,
                                     const std::string& cgroup_path,
                                     const std::vector<std::string>& args, bool tty = false);

}  // namespace berth::runtime
