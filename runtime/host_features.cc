#include "runtime/host_features.h"

#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/file_util.h"

namespace berth::runtime {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

// Scans mountinfo for cgroup (v1) and cgroup2 mounts.
void ProbeCgroups(const std::string& proc_root, HostFeatures& features) {
  std::ifstream mountinfo(proc_root + "/self/mountinfo");
  bool has_v1 = false;
  std::string line;
  while (std::getline(mountinfo, line)) {
    // Fields: id parent major:minor root mountpoint options [optional...] - fstype source super
    size_t separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    std::istringstream head(line.substr(0, separator));
    std::istringstream tail(line.substr(separator + 3));
    std::string id, parent, device, root, mountpoint, fstype;
    head >> id >> parent >> device >> root >> mountpoint;
    tail >> fstype;
    if (fstype == "cgroup2" && features.cgroup_v2_path.empty()) {
      features.cgroup_v2_path = mountpoint;
    } else if (fstype == "cgroup") {
      has_v1 = true;
    }
  }
  bool has_v2 = !features.cgroup_v2_path.empty();
  if (has_v1 && has_v2) {
    features.cgroup_layout = CgroupLayout::kHybrid;
  } else if (has_v1) {
    features.cgroup_layout = CgroupLayout::kV1;
  } else if (has_v2) {
    features.cgroup_layout = CgroupLayout::kV2;
  }
}

}  // namespace

HostFeatures ProbeHostFeatures(const std::string& proc_root, const std::string& sys_root) {
  HostFeatures features;
  ProbeCgroups(proc_root, features);
  features.apparmor_enabled = FirstLine(sys_root + "/module/apparmor/parameters/enabled") == "Y";
  features.selinux_enabled = PathExists(sys_root + "/fs/selinux/enforce");
  // The "Seccomp:" line exists in /proc/PID/status only when the kernel has CONFIG_SECCOMP.
  std::ifstream status(proc_root + "/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Seccomp:", 0) == 0) features.seccomp_available = true;
  }
  std::string max_userns = FirstLine(proc_root + "/sys/user/max_user_namespaces");
  features.user_namespaces = !max_userns.empty() && max_userns != "0";
  // A call with a bad fd fails with EBADF where the syscall exists, ENOSYS where it does not.
  features.mount_setattr =
      ::syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0) != 0 && errno != ENOSYS;
  struct utsname uts {};
  if (uname(&uts) == 0) features.kernel_release = uts.release;
  return features;
}

std::string CgroupLayoutName(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::kV1: return "v1";
    case CgroupLayout::kHybrid: return "hybrid";
    case CgroupLayout::kV2: return "v2";
    case CgroupLayout::kNone: return "none";
  }
  return "none";
}

std::string HostFeaturesToJson(const HostFeatures& features) {
  nlohmann::ordered_json json = {
      {"kernel", features.kernel_release},
      {"cgroups", CgroupLayoutName(features.cgroup_layout)},
      {"cgroup_v2_path", features.cgroup_v2_path},
      {"apparmor", features.apparmor_enabled},
      {"selinux", features.selinux_enabled},
      {"seccomp", features.seccomp_available},
      {"user_namespaces", features.user_namespaces},
      {"mount_setattr", features.mount_setattr},
  };
  return json.dump();
}

}  // namespace berth::runtime
