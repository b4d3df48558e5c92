// The built-in OCI launcher: runs a parsed bundle the way an OCI runtime's create/start do, with
// no external runtime. CreateContainer clones the container's init, which sets up namespaces,
// mounts and pivot_root and then waits; StartContainer lets it drop privileges and execve.
//
// Must be called from a single-threaded process (berth-monitor): the child is a raw clone of the
// caller, so it must not meet locks held by threads that do not exist in it. The child therefore
// uses raw syscalls for credential changes (glibc's setuid would signal the caller's threads).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/launcher/oci_spec.h"

namespace berth::runtime {

// The container's stdio, borrowed from the caller (it keeps ownership); -1 means /dev/null.
struct StdioFds {
  int in = -1;
  int out = -1;
  int err = -1;
  // With process.terminal: a unix socket over which the init sends the master of the pty it
  // opens inside the container (whose slave becomes its stdio); the caller receives it with
  // ReceiveWithFds once CreateContainer returned.
  int console = -1;
};

// A container whose init has finished its setup and waits to exec. Dropping it without
// StartContainer closes the start pipe, which makes the init exit (the caller still reaps it).
class CreatedContainer {
 public:
  pid_t pid() const { return pid_; }
  const std::string& cgroup_path() const { return cgroup_path_; }

 private:
  friend Result<CreatedContainer> CreateContainer(const oci::Spec&, const StdioFds&,
                                                  const std::function<Result<void>(pid_t)>&);
  friend Result<void> StartContainer(CreatedContainer&);
  pid_t pid_ = -1;
  UniqueFd start_;   // write end: one byte lets the init exec
  UniqueFd report_;  // read end: 'R' when ready, 'E'+message on failure, EOF once exec succeeded
  std::string cgroup_path_;
};

// Puts the (waiting) init into a systemd scope: the caller's part when linux.cgroupsPath is in
// the systemd form "<slice>:<prefix>:<name>" (berth-monitor asks berthd).
using InitPlacer = std::function<Result<void>(pid_t)>;

// Clones the container's init in new mount (+pid, +any other requested) namespaces, inside
// linux.cgroupsPath (a cgroupfs path, created if missing and entered at birth with
// CLONE_INTO_CGROUP where the kernel has it; or a systemd scope `place` starts) and waits until
// its setup is done. Errors name the step and object: "mount /data: host path /srv/data does not
// exist", "exec /bin/nope: No such file or directory". On failure the init is reaped and a
// cgroup created here is removed.
Result<CreatedContainer> CreateContainer(const oci::Spec& spec, const StdioFds& stdio,
                                         const InitPlacer& place = {});

// Lets the init exec the process. Returns once the execve succeeded, or its error. The caller
// reaps the pid (it is the caller's child) in both cases.
Result<void> StartContainer(CreatedContainer& container);

// Removes linux.cgroupsPath from every hierarchy (after the container exited); absent is fine,
// and so is a systemd scope (systemd removes it with its last process).
Result<void> RemoveContainerCgroup(const oci::Spec& spec);

}  // namespace berth::runtime
