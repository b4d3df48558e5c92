// What this host's kernel offers a container runtime, probed once at start. Status reports it
// and later layers choose their code paths from it (cgroup v1 vs v2, AppArmor, SELinux).
#pragma once

#include <string>

namespace berth::runtime {

enum class CgroupLayout {
  kV1,      // legacy hierarchies only
  kHybrid,  // v1 controllers plus a v2 hierarchy (usually at /sys/fs/cgroup/unified)
  kV2,      // unified hierarchy only
  kNone,
};

struct HostFeatures {
  CgroupLayout cgroup_layout = CgroupLayout::kNone;
  std::string cgroup_v2_path;  // mount point of the v2 hierarchy, empty when there is none
  bool apparmor_enabled = false;
  bool selinux_enabled = false;
  bool seccomp_available = false;
  bool user_namespaces = false;
  bool mount_setattr = false;  // mount_setattr(2): recursive read-only mounts, idmapped mounts
  std::string kernel_release;
};

// Reads /proc, /sys and mountinfo under `proc_root` / `sys_root` (parameters for tests).
HostFeatures ProbeHostFeatures(const std::string& proc_root = "/proc",
                               const std::string& sys_root = "/sys");

std::string CgroupLayoutName(CgroupLayout layout);

// A JSON object of the features, for Status' verbose info.
std::string HostFeaturesToJson(const HostFeatures& features);

}  // namespace berth::runtime
