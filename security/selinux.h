// SELinux labels for containers from the CRI's SELinuxOption.
//
// When SELinux is not enabled (this project's test machines), labels are ignored: the pod layer
// may still build them, but the launcher neither writes a process label nor adds a `context=`
// mount option, and no error is raised. containerd behaves the same way (go-selinux turns label
// calls into no-ops), and kubelet sends selinux_options regardless of the node's LSM.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::security {

inline constexpr std::string_view kSELinuxDefaultProcessLabel = "system_u:system_r:container_t:s0";
inline constexpr std::string_view kSELinuxDefaultMountLabel =
    "system_u:object_r:container_file_t:s0";

// selinuxfs is mounted (/sys/fs/selinux/enforce exists) and the kernel reports SELinux on
// (/proc/filesystems lists selinuxfs).
bool SELinuxEnabled();

// CRI SELinuxOption: each empty part keeps the default.
struct SELinuxOption {
  std::string user;
  std::string role;
  std::string type;
  std::string level;
};

struct SELinuxLabels {
  std::string process;  // for the container's processes (SetExecLabel)
  std::string mount;    // for its rootfs and volumes (MountLabelOption)
};

// As go-selinux's InitLabels: user and level apply to both labels, role and type to the process
// label only (files keep object_r:container_file_t). A part containing ':' (other than within
// the level, which is "s0" or "s0:c1,c2" or "s0-s0:c0.c1023") or a newline is InvalidArgument.
Result<SELinuxLabels> BuildSELinuxLabels(const SELinuxOption& option);

// The mount option that labels a filesystem's files: `context="<label>"`.
std::string MountLabelOption(std::string_view mount_label);

// For the container's child before execve: the label the next execve switches to (writes
// /proc/thread-self/attr/exec). "" does nothing; when SELinux is not enabled, does nothing
// (see above).
Result<void> SetExecLabel(std::string_view label);

// The same without allocating, for a forked child: 0 or an errno value. Does not check
// SELinuxEnabled (the caller decides once, before fork).
int SetExecLabelRaw(const char* label) noexcept;

}  // namespace berth::security
