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

namespace berth {

struct ExecSyncRequest {
  std::string exec_binary;  // berth-exec (next to berthd)
  std::string bundle_dir;   // the container's config.json
  pid_t container_pid = 0;  // its init, in the host's PID namespace
  std::string cgroup_path;
  std::vector<std::string> args;
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

// berth-exec's own work: join the container of `container_pid` (cgroup, namespaces), take on
// the process settings of the bundle's config.json for `args`, and exec. Exits with the
// command's status; its own failures are written to stderr with exit code 126 or 127.
[[noreturn]] void RunExecInContainer(const std::string& bundle_dir, pid_t container_pid,
                                     const std::string& cgroup_path,
                                     const std::vector<std::string>& args);

}  // namespace berth
