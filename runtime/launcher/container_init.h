// The container's init: what the cloned child does, as a list of named steps in the OCI order.
// Internal to the launcher.
#pragma once

#include <vector>

#include "runtime/launcher/launcher.h"
#include "runtime/launcher/oci_spec.h"
#include "security/seccomp_compile.h"

namespace berth::runtime::launcher_internal {

struct NamespaceToJoin {
  int nstype;  // CLONE_NEWNET, ...
  int fd;      // opened by the parent, so a bad path fails before clone
};

// Everything the child needs, prepared by the parent: the child parses nothing.
struct InitPlan {
  const oci::Spec* spec = nullptr;
  StdioFds stdio;
  int start_fd = -1;   // read end: byte 1 "cgroup joined", byte 2 "start"
  int report_fd = -1;  // write end, close-on-exec
  int parent_fds[2] = {-1,
                       -1};  // the parent's ends of both pipes: closed first, or EOF never comes
  std::vector<NamespaceToJoin> joins;
  bool new_cgroup_namespace = false;
  int last_capability = 40;
  const security::SeccompProgram* seccomp = nullptr;  // compiled by the parent; installed last
  bool parent_death_signal = true;  // SIGKILL when the parent dies (not when it is an intermediate)
};

[[noreturn]] void RunContainerInit(const InitPlan& plan);

// Rootfs steps (rootfs.cc).
Result<void> MakeRootPropagationPrivate(const oci::Spec& spec);
Result<void> BindRootfs(const oci::Spec& spec);
Result<void> MountAll(const oci::Spec& spec);
Result<void> CreateDevices(const oci::Spec& spec);
Result<void> PivotRoot(const oci::Spec& spec);
Result<void> ApplyReadonlyPaths(const oci::Spec& spec);
Result<void> ApplyMaskedPaths(const oci::Spec& spec);
Result<void> RemountRootReadonly(const oci::Spec& spec);

}  // namespace berth::runtime::launcher_internal
